"""One output folder OUT: checked before the work starts, locked while a run owns it, replaced in one swap.

Beside OUT, in its parent folder, a run uses three kinds of hidden entries:
  .OUT.lock             the lock: held (flock) by the run that writes OUT. The operating system lets go of it
                        when that run ends, even by kill -9, so it never stays stuck; a second run is refused.
  .OUT.partial-XXXXXXXX the new result while it is written; renamed to OUT only when complete.
  .OUT.previous-XXXXXXX the old OUT during the swap (rename OUT aside, rename the new one in, delete the old).
Holding the lock, a run removes the partial / previous folders an earlier killed run left behind (only
those names, nothing else), and puts a previous folder back as OUT when the kill came mid-swap.

OUT must be empty, new, or hold only files a run writes (`owned`): a folder with anything else in it (say
the input study, or a home folder given by mistake) is refused rather than swapped away.
For tests, PSCGAN_FAULT_AFTER=staged|set-aside makes the process kill itself (SIGKILL) at that point.
"""
from __future__ import annotations

import os
import shutil
import signal
import uuid
from pathlib import Path

from .errors import InputError
from .io.atomic import new_staging_folder

FAULT_ENV = "PSCGAN_FAULT_AFTER"
_HELD: dict[Path, OutputFolder] = {}  # folders this process holds: a nested reserve() reuses the lock


def fault_point(name: str) -> None:
    """Test hook: die here, as kill -9 would, when PSCGAN_FAULT_AFTER names this point."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def os_error(err: OSError, fallback: Path) -> InputError:
    """One line naming the path an OSError is about."""
    where = err.filename if err.filename else fallback
    return InputError(f"{where}: {err.strerror or type(err).__name__}")


class OutputFolder:
    """Use `with reserve(out, owned=...) as folder:` then `folder.new_staging()` and `folder.publish(staging)`."""

    def __init__(self, out: Path, owned: tuple[str, ...] | None):
        self.out = Path(os.path.abspath(Path(out).expanduser()))  # "..", "." resolved; symbolic links kept
        self.owned = owned
        self.lock_path = self.out.parent / f".{self.out.name}.lock"
        self._fd: int | None = None

    # -------------------------------------------------------------- checks and lock
    def _check_path(self) -> None:
        out = self.out
        if out == out.parent:
            raise InputError(f"{out}: the root folder cannot be an output folder")
        if out.exists() and not out.is_dir():
            raise InputError(f"{out}: exists and is not a folder")
        ancestor = out.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise InputError(f"{ancestor}: is a file, so the output folder {out} cannot be made")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise os_error(err, out.parent) from None
        if self.owned is not None and out.is_dir():
            foreign = sorted(p.name for p in out.iterdir() if p.name not in self.owned)
            if foreign:
                raise InputError(
                    f"{out}: holds files this program did not write ({', '.join(foreign[:3])}"
                    f"{' ...' if len(foreign) > 3 else ''}); choose a new or empty output folder",
                )

    def _lock(self) -> None:
        while True:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as err:
                raise InputError(f"{self.out.parent}: cannot write the output folder here ({err.strerror})") from None
            if not _try_lock(fd):
                os.close(fd)
                raise InputError(f"{self.out}: another run is writing this output folder now; wait for it or choose another --out")
            try:  # the holder before us may have removed the file between our open and our lock: lock the new one
                same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._fd = fd
                return
            os.close(fd)

    def _unlock(self) -> None:
        if self._fd is None:
            return
        try:
            self.lock_path.unlink(missing_ok=True)  # while still holding it: see the inode check in _lock
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None

    def _clean_debris(self) -> None:
        """Staging and set-aside folders of earlier runs into OUT (only ours can exist now: we hold the lock)."""
        parent, name = self.out.parent, self.out.name
        previous = sorted(parent.glob(f".{name}.previous-*"))
        if previous and not self.out.exists():
            os.rename(previous.pop(), self.out)  # killed mid-swap: the old result goes back
        for debris in previous + sorted(parent.glob(f".{name}.partial-*")):
            if debris.is_dir() and not debris.is_symlink():
                shutil.rmtree(debris, ignore_errors=True)

    def __enter__(self) -> OutputFolder:
        held = _HELD.get(self.out)
        if held is not None:
            return held
        self._check_path()
        self._lock()
        try:
            self._clean_debris()
        except OSError as err:
            self._unlock()
            raise os_error(err, self.out) from None
        _HELD[self.out] = self
        return self

    def __exit__(self, *exc) -> None:
        if _HELD.get(self.out) is self and self._fd is not None:
            del _HELD[self.out]
            self._unlock()

    # -------------------------------------------------------------- staging and swap
    def new_staging(self) -> Path:
        """An empty hidden folder beside OUT (same file system, so the swap is a rename), normal permissions."""
        try:
            staging = new_staging_folder(self.out)
        except OSError as err:
            raise os_error(err, self.out.parent) from None
        return staging

    def publish(self, staging: Path) -> None:
        """Make `staging` the new OUT: OUT shows either the whole old result or the whole new one."""
        out = self.out
        self._check_path()  # nothing foreign crept in while the work ran
        if not out.exists():
            os.rename(staging, out)
            return
        previous = out.parent / f".{out.name}.previous-{uuid.uuid4().hex[:8]}"
        os.rename(out, previous)
        try:
            fault_point("set-aside")
            os.rename(staging, out)
        except BaseException:
            os.rename(previous, out)
            raise
        shutil.rmtree(previous, ignore_errors=True)


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def clean_inside(folder: Path) -> None:
    """Remove the staging / set-aside folders and lock files killed runs left inside `folder` (batch mode's OUT),
    result by result, each under its own lock: one that another run holds now is left alone."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    names = {p.name[1:].rsplit(".partial-", 1)[0] for p in folder.glob(".*.partial-*")}
    names |= {p.name[1:].rsplit(".previous-", 1)[0] for p in folder.glob(".*.previous-*")}
    names |= {p.name[1 : -len(".lock")] for p in folder.glob(".*.lock") if p.is_file()}
    for name in sorted(n for n in names if n):
        try:
            with OutputFolder(folder / name, owned=None):
                pass  # entering cleans
        except InputError:
            pass


def reserve(out: Path, owned: tuple[str, ...] | None = None) -> OutputFolder:
    """Check that OUT can be written, lock it and clean what a killed run left; use as a context manager.

    owned: the names a result folder may hold (OUT is swapped as a whole); None: OUT is a folder of results
    (batch mode), locked but never swapped."""
    return OutputFolder(out, owned)
