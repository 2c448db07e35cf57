"""Readers and writers: every file format becomes a `Session` (or a `Windows` stack).

- ``.npz``: the project's native session files (`alignnet.data.io.native`);
- ``.nwb``: NWB 2 through pynwb (`alignnet.data.io.nwb`);
- ``.mat``: the two public 50 ms-binned recordings (`alignnet.data.io.mat`), recognised by
  their variable names;
- ``.nev`` (Blackrock, Ripple) and ``.plx`` (Plexon) spike event files: threshold crossings
  per electrode (`alignnet.data.io.raw.events`; behaviour = ``behavior`` as analog channel
  labels of the ``.ns2``/``.ns3`` next to it);
- a folder with ``dataset.json``: a native multi-day dataset;
- windows files (`save_windows` / `load_windows`).

Files without a known suffix are recognised by their first bytes (HDF5 -> NWB, MATLAB 5
header -> ``.mat``, zip -> native ``.npz``). Every loader validates the session it returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from alignnet.data.behavior_gaps import DEFAULT_MAX_GAP_S
from alignnet.data.io.days import assign_calendar_days, check_same_recording_setup
from alignnet.data.io.nwb_channels import ChannelPolicy
from alignnet.data.io.windows_file import load_windows, save_windows
from alignnet.errors import FileFormatError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from alignnet.data.io.read_options import SessionReading
    from alignnet.data.session import Session

SESSION_SUFFIXES = (".npz", ".nwb", ".mat", ".nev", ".plx")

_MAGIC = {
    b"\x89HDF\r\n\x1a\n": ".nwb",
    b"PK\x03\x04": ".npz",
    b"MATLAB 5.0": ".mat",
}


def _kind(path: Path) -> str:
    """The format of ``path``: its suffix if known, else guessed from its first bytes."""
    suffix = path.suffix.lower()
    if suffix in SESSION_SUFFIXES:
        return suffix
    with open(path, "rb") as handle:
        head = handle.read(16)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    raise FileFormatError(
        f"unknown session file format (suffix {suffix!r}; expected one of {SESSION_SUFFIXES})",
        source=path,
    )


def _refuse_days_without_manifest(folder: Path) -> None:
    """``dayNN.npz`` files without ``dataset.json`` are a native dataset missing its manifest
    (an interrupted ``alignnet data synth`` or an incomplete copy): refused, not read as
    loose sessions, so a partial dataset is never taken for a complete one."""
    import re

    days = sorted(p.name for p in folder.glob("day*.npz") if re.fullmatch(r"day\d+\.npz", p.name))
    if days:
        raise FileFormatError(
            f"day files {days[:3]}{' ...' if len(days) > 3 else ''} without the dataset "
            "manifest dataset.json: an interrupted or incomplete dataset (write it again)",
            source=folder,
        )


def load_session(
    path: str | Path,
    *,
    target: Literal["vel", "pos"] = "vel",
    channels: ChannelPolicy = "auto",
    behavior: str | None = None,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    missing_value: float | None = None,
) -> Session:
    """Load one session file, dispatching on its suffix (or content).

    Args:
        path: ``.npz`` (native), ``.nwb`` or one of the known ``.mat`` recordings.
        target: behaviour variable for the ``.mat`` recordings (``"vel"`` or ``"pos"``);
            ignored for other formats (``behavior="pos"`` also selects it).
        channels: channel policy for the sorted units of third-party NWB files
            (``"auto"``, ``"electrode"``, ``"unit"``; see `alignnet.data.io.nwb_channels`).
            Other formats have fixed channels and ignore it.
        behavior: which behaviour (`alignnet.data.io.nwb_behavior`): None (the first
            series), ``"none"`` (no behaviour: an unlabelled day), ``"NAME"``,
            ``"NAME:velocity"``, ``"NAME:discrete"``. A name the file lacks raises a
            `DataError` listing the names it has.
        max_gap_s: missing behaviour samples over gaps up to this long (s) are interpolated;
            windows over longer gaps are dropped (`alignnet.data.behavior_gaps`).
        missing_value: a behaviour sample equal to this on every dimension is missing.

    Raises:
        FileFormatError: missing file, unknown format, truncated or corrupt file.
        DataError: the file's contents fail `Session.validate`.
    """
    from alignnet.data.io.read_options import ReadOptions, apply_to_session

    options = ReadOptions(
        behavior=behavior, channels=channels, max_gap_s=max_gap_s, missing_value=missing_value
    )
    path = Path(path)
    if not path.exists():
        raise FileFormatError("file not found", source=path)
    if path.is_dir():
        raise FileFormatError("is a folder; use load_sessions for folders", source=path)
    kind = _kind(path)
    if kind in (".nev", ".plx"):  # spike event files: threshold crossings per electrode
        from alignnet.data.io.raw.events import import_events

        name, _, how = (behavior or "").partition(":")
        channel = None if name in ("", "none") else name
        session = import_events(path, behavior_channel=channel)
        rest = "none" if name == "none" else (f":{how}" if how else None)
        return apply_to_session(session, ReadOptions(**{**vars(options), "behavior": rest}))
    if kind == ".nwb":
        from alignnet.data.io.nwb import read_nwb
        from alignnet.data.io.truth_sidecar import attach_truth_sidecar

        return attach_truth_sidecar(read_nwb(path, **options.nwb_kwargs()), path)
    if kind == ".mat":
        from alignnet.data.io.mat import load_mat_session

        name, _, how = (behavior or "").partition(":")
        if name in ("vel", "pos"):
            target, options = name, ReadOptions(**{**vars(options), "behavior": how and f":{how}"})  # type: ignore[assignment]
        return apply_to_session(load_mat_session(path, target=target), options)
    from alignnet.data.io.native import load_session_npz

    return apply_to_session(load_session_npz(path), options)


def load_sessions(path: str | Path, **reading: Unpack[SessionReading]) -> list[Session]:
    """Load a session file, a folder of session files, or a native dataset folder.

    Args:
        path: a file (see `load_session`); a folder with ``dataset.json`` (native dataset,
            `alignnet.data.io.native_dataset.load_dataset`); or a folder whose ``.npz``/``.nwb``/``.mat``
            files are each one session (loaded in name order).
        reading: `load_session`'s keywords (``target`` for ``.mat`` files, ``channels``,
            ``behavior``, ``max_gap_s``, ``missing_value``; same defaults), for every file.

    Returns:
        The sessions, sorted by ``meta.day``. Third-party files (whose day is not stored) get
        ``meta.day`` = calendar days since the earliest recording's date
        (``session_start_time``), so days apart are calendar days.

    Raises:
        DataError: a folder mixing subjects, channel policies or electrode layouts, or two
            third-party recordings on the same date.
    """
    path = Path(path)
    if not path.exists():
        raise FileFormatError("file or folder not found", source=path)
    if path.is_file():
        return [load_session(path, **reading)]
    if not path.is_dir():  # /dev/null, a FIFO, a socket: never read (a FIFO would block)
        raise FileFormatError("not a regular file or a folder", source=path)
    if (path / "dataset.json").is_file():
        from alignnet.data.io.native_dataset import load_dataset
        from alignnet.data.io.read_options import ReadOptions, apply_to_session

        options = ReadOptions.of(reading)
        return [apply_to_session(s, options) for s in load_dataset(path)]
    _refuse_days_without_manifest(path)
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and p.suffix.lower() in SESSION_SUFFIXES and not p.name.startswith(".")
    )
    if not files:
        raise FileFormatError(
            f"no session files ({', '.join(SESSION_SUFFIXES)}) and no dataset.json in the folder",
            source=path,
        )
    sessions = [load_session(p, **reading) for p in files]
    check_same_recording_setup(sessions)
    assign_calendar_days(sessions)
    return sorted(sessions, key=lambda s: s.meta.day)


def save_session(session: Session, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a session as ``.npz`` (native) or ``.nwb``, chosen by the suffix (atomic).

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        FileFormatError: another suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".nwb":
        from alignnet.data.io.nwb_write import write_nwb

        return write_nwb(session, path, overwrite=overwrite)
    if suffix == ".npz":
        from alignnet.data.io.native import save_session as save_native

        save_native(session, path, overwrite=overwrite)
        return path
    raise FileFormatError(
        f"cannot write {suffix!r} files (use .npz or .nwb)", field="path", source=path
    )


__all__ = ["load_session", "load_sessions", "load_windows", "save_session", "save_windows"]
