"""The project's multi-day dataset folder: ``day{k:02d}.npz`` per day (native session files,
`alignnet.data.io.native`) plus ``dataset.json`` (the manifest), written atomically."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from alignnet.data.io.native import load_session_npz, save_session
from alignnet.data.io.staged import commit_folder, staging_folder
from alignnet.data.session import Session
from alignnet.errors import DataError, FileFormatError
from alignnet.utils.atomic import write_json_atomic

DATASET_FORMAT_NAME = "alignnet-dataset"
DATASET_FORMAT_VERSION = 1
MANIFEST_NAME = "dataset.json"


def day_file_name(day: int) -> str:
    """File name of day ``day`` in a dataset folder (``day03.npz``)."""
    return f"day{day:02d}.npz"


def save_dataset(
    sessions: Iterable[Session],
    directory: str | Path,
    *,
    config: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write one ``day{k:02d}.npz`` per session and then the ``dataset.json`` manifest.

    Sessions are written as they arrive (a generator streams days without holding them
    all). ``config`` (e.g. ``{"preset": ..., "seed": ..., "config": SyntheticConfig.to_dict()}``)
    is stored in the manifest under ``"generator"``.

    Atomic as a dataset: every file is first written into a hidden sibling folder
    (``.NAME.alignnet-tmp-*``, `alignnet.data.io.staged`), which becomes ``directory`` by one rename when ``directory`` is
    new or empty. Otherwise (``overwrite``, or a folder with other files) the old manifest is
    removed first, the day files are moved in, the old manifest's stale days are deleted and
    the new manifest comes last. An interruption therefore never leaves a folder that loads
    as a dataset with days of two runs, or with only some days.

    Returns:
        The manifest path.

    Raises:
        FileExistsError: a day file or the manifest exists and ``overwrite`` is False.
        DataError: two sessions share a day index.
    """
    directory = Path(directory)
    manifest_path = directory / MANIFEST_NAME
    if not overwrite and manifest_path.exists():
        raise FileExistsError(f"{manifest_path}: already exists (refusing to overwrite)")
    directory.parent.mkdir(parents=True, exist_ok=True)
    with staging_folder(directory) as staging:
        _write_dataset_files(sessions, staging, config)
        commit_folder(
            staging,
            directory,
            overwrite=overwrite,
            marker=MANIFEST_NAME,
            stale=_listed_files(directory),
        )
    return manifest_path


def _write_dataset_files(
    sessions: Iterable[Session], directory: Path, config: dict[str, Any] | None
) -> None:
    """The day files, then the manifest, into the (new, empty) ``directory``."""
    manifest_path = directory / MANIFEST_NAME
    entries: list[dict[str, Any]] = []
    seen: set[int] = set()
    for session in sessions:
        day = int(session.meta.day)
        if day in seen:
            raise DataError(
                f"two sessions for day {day}", field="meta.day", source=session.meta.session_id
            )
        seen.add(day)
        name = day_file_name(day)
        save_session(session, directory / name)
        entries.append(
            {
                "file": name,
                "day": day,
                "session_id": session.meta.session_id,
                "n_trials": len(session.trials),
                "n_channels": session.n_channels,
                "duration_s": session.duration,
            }
        )
    manifest = {
        "format": DATASET_FORMAT_NAME,
        "format_version": DATASET_FORMAT_VERSION,
        "files": entries,
        "generator": config,
    }
    write_json_atomic(manifest_path, manifest)


def _listed_files(directory: Path) -> list[str]:
    """Day files named by ``directory``'s manifest (none if it has no readable one)."""
    try:
        files = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
        names = [e["file"] for e in files]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [n for n in names if isinstance(n, str) and n and Path(n).name == n]


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The ``dataset.json`` of a dataset folder, checked: every day file it lists must be
    there (a folder of ``dayNN.npz`` without its manifest, or a manifest whose files are
    missing, is an interrupted or damaged dataset and is refused).

    Raises:
        FileFormatError: missing, unreadable, of another format or an unsupported version,
            or listing day files that are not in the folder.
    """
    path = Path(directory) / MANIFEST_NAME
    if not path.is_file():
        raise FileFormatError("no dataset manifest (dataset.json) here", source=path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(f"unreadable manifest: {exc}", source=path) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != DATASET_FORMAT_NAME:
        raise FileFormatError("not an AlignNet dataset manifest", field="format", source=path)
    version = manifest.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= DATASET_FORMAT_VERSION:
        raise FileFormatError(
            f"format version {version!r} is not supported", field="format_version", source=path
        )
    if not isinstance(manifest.get("files"), list):
        raise FileFormatError("no file list", field="files", source=path)
    _check_manifest_files(manifest["files"], Path(directory), path)
    return manifest


def _check_manifest_files(entries: list[Any], directory: Path, path: Path) -> None:
    """Every entry names a plain file name in ``directory`` that exists."""
    missing = []
    for entry in entries:
        name = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or Path(name).name != name:
            raise FileFormatError(f"bad file entry {entry!r}", field="files", source=path)
        if not (directory / name).is_file():
            missing.append(name)
    if missing:
        raise FileFormatError(
            f"lists day files that are missing from the folder: {missing} (an interrupted or "
            "damaged dataset; write it again)",
            field="files",
            source=path,
        )


def iter_dataset(directory: str | Path) -> Iterator[Session]:
    """Yield the sessions of a dataset folder one at a time, in manifest order."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    for entry in manifest["files"]:
        yield load_session_npz(directory / entry["file"])


def load_dataset(directory: str | Path) -> list[Session]:
    """All sessions of a dataset folder, in manifest order (see `save_dataset`)."""
    return list(iter_dataset(directory))
