"""The behaviour the reaching generator records (`alignnet.data.synthetic.reach`).

`recorded_behavior` turns the hand position and velocity of a day's reaches
(`alignnet.data.synthetic.reach.hand_kinematics`) into the behaviour a session stores, one of
`REACH_BEHAVIORS`:

- ``"velocity"``: hand velocity ``[n, 2]`` (cm/s), the regime's original behaviour;
- ``"position"``: hand position ``[n, 2]`` (cm, centre = 0): a slow signal that carries an
  offset through every hold (at the target the hand is still, the position is not 0);
- ``"emg"``: four EMG-like muscle envelopes ``[n, 4]`` (arbitrary units, >= 0), each a
  rectified drive along its muscle's pulling direction, a dynamic part from the velocity
  and a tonic part from the position (holding the hand off-centre takes force), low-pass
  filtered with a 50 ms time constant: slow, non-negative and offset-carrying.

None of them draws random numbers, so the spikes of a day do not depend on the choice.
"""

from __future__ import annotations

import numpy as np

#: Behaviours the reaching generator can record (``ReachConfig.behavior``).
REACH_BEHAVIORS: tuple[str, ...] = ("velocity", "position", "emg")

_EMG_ANGLES = np.deg2rad([0.0, 90.0, 180.0, 270.0])
_EMG_TAU_S = 0.05


def recorded_behavior(
    kind: str,
    *,
    position: np.ndarray,
    velocity: np.ndarray,
    dt: float,
    reference_speed_cm_s: float,
    target_distance_cm: float,
) -> tuple[np.ndarray, list[str], str]:
    """The behaviour a session records: ``(values [n, D], names, unit)``.

    Args:
        kind: one of `REACH_BEHAVIORS`.
        position: hand position ``[n, 2]`` (cm); velocity: ``[n, 2]`` (cm/s, with its noise).
        dt: sampling step, s.
        reference_speed_cm_s, target_distance_cm: scales of the EMG's dynamic and tonic parts.
    """
    if kind == "velocity":
        return velocity, ["vx", "vy"], "cm/s"
    if kind == "position":
        return position, ["px", "py"], "cm"
    if kind == "emg":
        from scipy.signal import lfilter

        dirs = np.stack([np.cos(_EMG_ANGLES), np.sin(_EMG_ANGLES)], axis=0)  # [2, 4]
        drive = (
            0.1
            + np.maximum(velocity @ dirs, 0.0) / reference_speed_cm_s
            + 0.6 * np.maximum(position @ dirs, 0.0) / target_distance_cm
        )
        a = np.exp(-dt / _EMG_TAU_S)
        emg = lfilter([1.0 - a], [1.0, -a], drive, axis=0, zi=drive[:1] * a)[0]
        return emg, [f"emg{i}" for i in range(4)], "a.u."
    raise ValueError(f"behavior must be one of {REACH_BEHAVIORS}, got {kind!r}")
