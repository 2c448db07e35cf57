"""Atomic file writes: write to a temporary file in the same folder, then rename.

A crash or an error half-way never leaves a truncated file where the user had a good one, and
a file that appeared (or changed) at the destination while the work ran is never replaced:

- every temporary file is named ``.NAME.alignnet-tmp-PID-XXXX[.suffix]`` (`TMP_TAG`); it is
  removed on every exit path (errors, Ctrl-C, SIGTERM through the CLI), and one left by a
  killed process (its PID no longer runs) is removed by the next write into that folder;
- the rename happens only if the destination is still what the writer expected: absent ->
  exclusive creation (``os.link``), present -> unchanged since the expectation was recorded.
  Commands record it at their start with `alignnet.utils.outputs.claim_output`; an unclaimed
  write expects what was there when it started. Otherwise `OutputError` names the file.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignnet.utils.plain import json_default

#: Marks every temporary file or folder this package creates next to an output.
TMP_TAG = "alignnet-tmp"
_TMP_RE = re.compile(r"^\..*\." + TMP_TAG + r"-(\d+)-")


@dataclass(frozen=True)
class FileState:
    """What is at a path: nothing (``key`` None) or a file/folder identified by device,
    inode, size and modification time (ns)."""

    key: tuple[int, int, int, int] | None

    @property
    def present(self) -> bool:
        return self.key is not None


def file_state(path: str | Path) -> FileState:
    """The current `FileState` of ``path`` (a dangling symlink counts as present)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return FileState(None)
    return FileState((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))


#: Expected destination states of the running command (`claim_output`), by `path_key`.
CLAIMS: dict[str, FileState] = {}


def path_key(path: str | Path) -> str:
    """One spelling per destination: the real path of the folder plus the file name."""
    path = Path(os.path.abspath(path))
    return str(Path(os.path.realpath(path.parent)) / path.name)


def temp_name(path: Path) -> str:
    """The prefix of a temporary sibling of ``path`` owned by this process."""
    return f".{path.name}.{TMP_TAG}-{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_orphans(folder: str | Path) -> list[Path]:
    """Remove temporary files/folders (`TMP_TAG`) in ``folder`` whose writing process is gone
    (killed with SIGKILL or a power cut); those of running processes are left alone."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TMP_RE.match(entry.name)
        if match is None or _pid_alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def conflict_error(path: Path, expected: FileState) -> Exception:
    from alignnet.errors import OutputError

    what = "created" if not expected.present else "changed or removed"
    return OutputError(
        f"{path}: was {what} by another program while this command ran; it was not replaced "
        "(this run's result was not written; run again with another --out)"
    )


def commit(tmp: Path, path: Path, expected: FileState) -> None:
    """Move ``tmp`` onto ``path`` if ``path`` is still in the ``expected`` state."""
    if not expected.present:
        try:
            os.link(tmp, path)  # exclusive: fails if anything appeared meanwhile
        except FileExistsError:
            raise conflict_error(path, expected) from None
        except OSError as exc:  # a file system without hard links
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            try:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:
                raise conflict_error(path, expected) from None
            os.replace(tmp, path)
        else:
            os.unlink(tmp)
        return
    if file_state(path) != expected:
        raise conflict_error(path, expected)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(
    path: str | Path, *, overwrite: bool = True, expect: FileState | None = None
) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it onto ``path``.

    Args:
        path: final destination.
        overwrite: if False and ``path`` exists, raise ``FileExistsError`` before writing.
        expect: the state ``path`` must still be in at the rename (default: its claim, else
            its state now), e.g. the file a merge read.

    The temporary file keeps ``path``'s suffix (some writers, e.g. numpy and h5py, look at it).
    The rename follows the destination's expected state (module docstring): a claimed path
    (`CLAIMS`) must still be as claimed, else as it was when this write started; an
    unexpected file is `OutputError`, never replaced. On any exception the temporary file is
    removed and ``path`` is left untouched; a full disk (``ENOSPC``, ``EDQUOT``, ``EFBIG``)
    becomes `alignnet.errors.OutputError` saying so.
    """
    from alignnet.errors import OutputError

    path = Path(path)
    key = path_key(path)
    expected = expect if expect is not None else CLAIMS.get(key)
    if expected is None:
        if not overwrite and path.exists():
            raise FileExistsError(f"{path}: already exists (refusing to overwrite)")
        expected = file_state(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder, expected a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_orphans(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_name(path), suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():  # mkstemp makes 0600 files; give the result the usual permissions
            os.chmod(tmp, 0o666 & ~_current_umask())
        commit(tmp, path, expected)
        if key in CLAIMS:  # our own file now: later writes of this command may replace it
            CLAIMS[key] = file_state(path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
            raise _disk_full(path, exc) from exc
        raise


_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _disk_full(path: Path, exc: OSError) -> Exception:
    from alignnet.errors import OutputError

    kept = f"the existing {path} was left as it was" if path.exists() else "nothing was written"
    error = OutputError(f"{path}: cannot write, {os.strerror(exc.errno or errno.ENOSPC)} ({kept})")
    error.errno = exc.errno
    return error


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str, *, expect: FileState | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (``expect``: see `atomic_path`)."""
    with atomic_path(path, expect=expect) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | Path, obj: Any, *, expect: FileState | None = None) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically (``expect``: see `atomic_path`)."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=json_default) + "\n"
    write_text_atomic(path, text, expect=expect)
