"""Folder outputs made atomic as a whole (`alignnet data synth`, native or NWB).

Every file is first written into a hidden sibling folder (``.NAME.alignnet-tmp-PID-*``,
see `alignnet.utils.atomic`), which becomes the output folder by one rename when that is new
or empty; a killed run leaves only that hidden folder, removed by the next run. Into a folder
with other files (``--overwrite``) the marker (a manifest) is removed first, the new files
are moved in, the previous run's day files that the new run does not write are deleted, and
the marker comes last. Only day files (`DAY_FILE`) are ever deleted: a manifest naming other
files (``notes.txt``) cannot make a run delete them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from alignnet.errors import OutputError
from alignnet.utils.atomic import clean_orphans, temp_name

#: Names of the day files this package writes into a dataset folder (``day03.npz``,
#: ``day12.nwb`` and its true-rate sidecar ``day12.true_rates``); nothing else is deleted when
#: a folder is replaced.
DAY_FILE = re.compile(r"^day\d+\.(npz|nwb|true_rates)$")


@contextlib.contextmanager
def staging_folder(directory: str | Path) -> Iterator[Path]:
    """A new hidden sibling folder of ``directory`` to write into; removed on every exit
    (after `commit_folder` it is empty or gone)."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    clean_orphans(directory.parent)
    staging = Path(tempfile.mkdtemp(prefix=temp_name(directory), dir=directory.parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def commit_folder(
    staging: Path,
    directory: Path,
    *,
    overwrite: bool,
    marker: str | None = None,
    stale: Iterable[str] = (),
) -> None:
    """Make the complete folder ``staging`` the content of ``directory`` (module docstring).

    Args:
        staging: the finished folder (from `staging_folder`).
        directory: the output folder.
        overwrite: replace files of the same name in a non-empty ``directory``.
        marker: the file that makes the folder a dataset (``dataset.json``), moved in last.
        stale: day files of the previous run; those the new run does not write are deleted
            (only names matching `DAY_FILE`).

    Raises:
        FileExistsError: files of the same name exist and ``overwrite`` is False.
        OutputError: ``directory`` appeared (not empty) while the run wrote.
    """
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private
    if not directory.exists() or (directory.is_dir() and not any(directory.iterdir())):
        try:
            if directory.exists():
                directory.rmdir()
            os.rename(staging, directory)  # one step: the folder appears complete
        except OSError as exc:
            raise OutputError(
                f"{directory}: was created by another program while this command ran; "
                f"not replaced ({os.strerror(exc.errno or 0)})"
            ) from None
        return
    new_files = sorted(p.name for p in staging.iterdir() if p.name != marker)
    names = [*new_files, *([marker] if marker else [])]
    clashes = [n for n in names if (directory / n).exists()]
    if clashes and not overwrite:
        raise FileExistsError(f"{directory}: {clashes} already exist (refusing to overwrite)")
    if marker:
        (directory / marker).unlink(missing_ok=True)  # from here on: not a dataset
    for name in new_files:
        os.replace(staging / name, directory / name)
    for name in sorted(set(stale) - set(new_files)):  # days of the old run only
        # a stale NWB day takes its true-rate sidecar with it (unless the new run wrote one)
        sidecar = [f"{name[: -len('.nwb')]}.true_rates"] if name.endswith(".nwb") else []
        for old in [name, *(s for s in sidecar if s not in new_files)]:
            if DAY_FILE.match(old) and (directory / old).is_file():
                (directory / old).unlink()
    if marker:
        os.replace(staging / marker, directory / marker)  # last: complete again


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
