"""What every reader is asked, besides the file: which behaviour, how units become channels,
how missing behaviour samples are treated.

`ReadOptions` travels from the command line (``--behavior``, ``--channels``,
``--max-gap-ms``, ``--missing-value``) through `alignnet.data.io.load_sessions` to the
readers. NWB files choose among their series (`alignnet.data.io.nwb_behavior`); the other
formats hold one behaviour series, called ``behavior`` (the ``.mat`` recordings: ``vel`` and
``pos``), and `apply_to_session` applies the same spec to it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, TypedDict

import numpy as np

from alignnet.data.behavior_gaps import DEFAULT_MAX_GAP_S, fill_short_gaps, mark_missing
from alignnet.data.io.nwb_behavior import BehaviorSpec, one_hot, velocity
from alignnet.data.session import Session
from alignnet.errors import DataError
from alignnet.names import ChannelPolicy

#: The name of the single behaviour series of a native or ``.mat`` session.
SINGLE_SERIES = "behavior"


class SessionReading(TypedDict, total=False):
    """The keywords of `alignnet.data.io.load_session` besides the path (see there):
    ``target`` (``.mat`` recordings) and the `ReadOptions` fields."""

    target: Literal["vel", "pos"]
    channels: ChannelPolicy
    behavior: str | None
    max_gap_s: float
    missing_value: float | None


@dataclass(frozen=True)
class ReadOptions:
    """Reader settings (defaults: the file's first behaviour series, ``channels="auto"``).

    Attributes:
        behavior: behaviour spec (`alignnet.data.io.nwb_behavior`): None, ``"none"``,
            ``"NAME"``, ``"NAME:velocity"`` or ``"NAME:discrete"``.
        channels: channel policy of NWB sorted units (``"auto"``, ``"electrode"``, ``"unit"``).
        max_gap_s: missing behaviour over gaps up to this long (s) is interpolated; longer
            gaps stay missing and the windows over them are dropped.
        missing_value: a behaviour sample equal to this on every dimension is missing
            (trackers writing ``0`` on a dropout); None: only NaN is.
    """

    behavior: str | None = None
    channels: str = "auto"
    max_gap_s: float = DEFAULT_MAX_GAP_S
    missing_value: float | None = None

    @classmethod
    def of(cls, reading: SessionReading) -> ReadOptions:
        """The reader settings among ``reading`` (all but ``target``)."""
        fields: dict[str, Any] = {k: v for k, v in reading.items() if k != "target"}
        return cls(**fields)

    def nwb_kwargs(self) -> dict[str, Any]:
        """The settings as `alignnet.data.io.nwb.read_nwb` keywords (its names are the fields)."""
        return asdict(self)


def apply_to_session(session: Session, options: ReadOptions) -> Session:
    """Apply the behaviour spec and gap rule to a session from a single-series format.

    Raises:
        DataError: a name other than ``behavior`` (the message says what the file has).
    """
    spec = BehaviorSpec.parse(options.behavior)
    if spec.skip:
        meta = session.meta
        meta.behavior_names, meta.behavior_unit = [], ""
        return session.replace(behavior=np.zeros((0, 0)), behavior_times=np.zeros(0)).validate()
    if not session.has_behavior:
        return session
    if spec.name not in (None, SINGLE_SERIES):
        raise DataError(
            f"no behaviour series named {spec.name!r}; this file has one, "
            f"{SINGLE_SERIES!r} ({', '.join(session.meta.behavior_names)} in "
            f"{session.meta.behavior_unit})",
            field="behavior",
            source=session.meta.source or session.meta.session_id,
        )
    times = session.behavior_times
    values, gaps = fill_short_gaps(
        times, mark_missing(session.behavior, options.missing_value), max_gap_s=options.max_gap_s
    )
    meta = session.meta
    if gaps["missing_samples"]:
        meta.extra["behavior_gaps"] = gaps
    if spec.transform == "velocity":
        values = velocity(times, values)
        meta.behavior_names = [f"v{n}" for n in meta.behavior_names]
        meta.behavior_unit = f"{meta.behavior_unit}/s"
    elif spec.transform == "discrete":
        values, meta.behavior_names = one_hot(values, meta.behavior_names[0])
        meta.behavior_unit = "one-hot"
    return session.replace(behavior=values).validate()
