"""The start-of-command check of every output path (`claim_output`), shared by all commands.

A command claims each output before any work: the claim refuses an existing file without
``overwrite``, a folder where a file is expected, a path equal to one of the command's inputs
or to another output of the same command, and a place that cannot be written (read-only
folder, a file where a folder should be). It records what is at the path now; the atomic
writer (`alignnet.utils.atomic.atomic_path`) renames its result onto the path only if that is
still so at the end, so a file that appeared or changed meanwhile is never replaced.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from alignnet.errors import OutputError
from alignnet.utils.atomic import CLAIMS, clean_orphans, file_state, path_key, temp_name


def release_claims() -> None:
    """Forget every claim (the CLI does this when a command ends)."""
    CLAIMS.clear()


def _same_file(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    return path_key(a) == path_key(b)


def check_writable_folder(path: Path, *, option: str) -> None:
    """The first existing ancestor of ``path`` must be a folder this process can create files
    in (tried with a probe file, so read-only mounts and permissions both count)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"{option} {path}: {folder} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=temp_name(path), dir=folder)
    except OSError as exc:
        raise OutputError(
            f"{option} {path}: cannot write in {folder} ({os.strerror(exc.errno or 13)}); "
            "nothing was run"
        ) from None
    os.close(fd)
    os.unlink(probe)


def claim_output(
    path: str | Path | None,
    *,
    overwrite: bool,
    inputs: Iterable[str | Path | None] = (),
    option: str = "--out",
    folder: bool = False,
) -> Path | None:
    """Check the output ``path`` before any work and record its current state.

    Args:
        path: the output (None: nothing to check).
        overwrite: whether an existing file may be replaced.
        inputs: the command's input files/folders; the output may not be one of them (even
            with ``overwrite``: the input would be destroyed).
        option: the option name used in messages.
        folder: the output is a folder (``data synth``, ``demo``); else a file.

    Returns:
        ``path`` as a `Path` (None if None).

    Raises:
        OutputError: naming the option, the path and the problem; ``FileExistsError``-like
            refusals say to pass ``--overwrite``.
    """
    if path is None:
        return None
    path = Path(path)
    for source in inputs:
        if source is not None and _same_file(path, Path(source)):
            raise OutputError(
                f"{option} {path} is the input {source}; writing it would destroy the input "
                "(choose another file)"
            )
    key = path_key(path)
    if key in CLAIMS:
        raise OutputError(f"{option} {path} is also another output of this command")
    if not folder and path.is_dir():
        raise OutputError(f"{option} {path} is a folder; give a file name")
    if folder and path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path} is a file; give a folder")
    if not folder and path.exists() and not overwrite:
        raise OutputError(f"{option} {path} exists; pass --overwrite to replace it")
    check_writable_folder(path / "x" if folder else path, option=option)
    clean_orphans(path.parent)
    CLAIMS[key] = file_state(path)
    return path


#: Lock file of a folder that several processes write outputs into (`folder_lock`).
LOCK_NAME = ".alignnet.lock"


@contextlib.contextmanager
def folder_lock(folder: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (``flock`` on ``folder/.alignnet.lock``) while
    several outputs are merged and written, so two runs into one folder (e.g. benchmarks
    with other seeds) write one after the other and the later one merges the earlier one's
    results. Where ``flock`` is missing (Windows) nothing is locked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    with open(Path(folder) / LOCK_NAME, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
