"""THE atomic write of a file and of a folder: a reader sees the old one or the new one, never half of either.

A file is written under a hidden temporary name beside its destination and renamed over it; a folder is
filled as a hidden folder beside its destination and renamed into place. Temporary names:
  .NAME.<pid>.XXXXXXXX.tmp[SUFFIX]   a file being written (SUFFIX keeps a format-picking extension: .nii.gz)
  .NAME.partial-XXXXXXXX             a folder being written
A file write first removes the temporaries of the same NAME that a killed process left (its pid is gone).

Permission policy (one for every writer): a new file gets 0666 and a new folder 0777, less the umask (the
usual 0644 / 0755), never mkstemp's / mkdtemp's private 0600 / 0700; a file that replaces an existing one
keeps the existing file's permissions.
"""
from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

FILE_MODE = 0o666
FOLDER_MODE = 0o777


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def set_normal_permissions(path: Path, keep_from: Path | None = None) -> None:
    """0666 (file) / 0777 (folder) less the umask, or the permissions of `keep_from` when that exists."""
    try:
        mode = os.stat(keep_from).st_mode & 0o7777 if keep_from is not None else None
    except OSError:
        mode = None
    if mode is None:
        mode = (FOLDER_MODE if os.path.isdir(path) else FILE_MODE) & ~umask()
    os.chmod(path, mode)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass  # a platform or file system that cannot sync a folder


def write_file(path: Path, write: Callable[[Path], None], *, suffix: str = "", durable: bool = False) -> Path:
    """Call `write(tmp)` to fill a temporary file beside `path`, then rename it over `path`; returns `path`.

    suffix: appended to the temporary name for writers that pick the format by extension (".nii.gz").
    durable: fsync the file and the folder (checkpoints, bundles) so the rename survives a power cut.
    The temporary file is removed on any failure; the caller's exception passes through unchanged."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        set_normal_permissions(Path(tmp), keep_from=path)
        if durable:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        _fsync_folder(path.parent)
    return path


def write_text(path: Path, text: str) -> Path:
    """`text` as the file `path` (UTF-8, line ends exactly as given), atomically."""
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)

    return write_file(path, write)


def write_bytes(path: Path, data: bytes) -> Path:
    return write_file(path, lambda tmp: tmp.write_bytes(data))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or a platform that cannot tell: leave its file alone
    return True


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete `.NAME.<pid>.XXXX.tmp*` files that a write of `path` killed mid-write left (its pid is gone).

    Only that name pattern beside `path`, and only of dead processes: a concurrent writer's file stays."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp*"):
        pid_text = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _alive(int(pid_text)) and tmp.is_file():
            try:
                tmp.unlink()
                removed.append(tmp)
            except OSError:
                pass
    return removed


def new_staging_folder(target: Path) -> Path:
    """An empty hidden folder `.NAME.partial-XXXXXXXX` beside `target` (same file system: moving it into place is
    a rename), with normal permissions."""
    target = Path(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    set_normal_permissions(staging)
    return staging


@contextmanager
def write_folder(folder: Path, *, before_move: Callable[[Path], None] | None = None,
                 replace: bool = False) -> Iterator[Path]:
    """`with write_folder(folder) as tmp:` fill `tmp`; when the block ends without error `tmp` becomes `folder`.

    before_move(folder) runs just before the move (raise there to refuse the destination as it is then);
    replace: an existing `folder` is deleted first; otherwise only an empty one may be there (else OSError).
    On any failure the temporary folder is removed and `folder` is left as it was."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_staging_folder(folder)
    try:
        yield tmp
        if before_move is not None:
            before_move(folder)
        if replace and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
