"""A background run with progress, cancel and one-line errors, testable without Qt.

`BackgroundJob(work, ...)` runs `work(progress, should_cancel)` in a worker thread. The GUI calls
`poll()` from its own thread (a QTimer in the Widget); `poll` reports the latest progress and, once
the work has finished, calls exactly one of `on_done(result)`, `on_cancelled()` or `on_error(line)`
on the caller's thread, so node changes (in `on_done`) happen on the main thread only. The worker
touches nothing but the job's own state.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from pscgan.errors import Cancelled, PSCGANError

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]


def one_line(err: BaseException) -> str:
    """The message a user sees: a PSCGANError as it is, anything else with its type; always one line."""
    text = str(err) if isinstance(err, PSCGANError) else f"{type(err).__name__}: {err}"
    return " ".join(text.split()) or type(err).__name__


class BackgroundJob:
    def __init__(
        self,
        work: Callable[[ProgressFn, Callable[[], bool]], Any],
        *,
        on_progress: ProgressFn | None = None,
        on_done: Callable[[Any], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        total: int = 1,
    ) -> None:
        self._work = work
        self._on_progress = on_progress or (lambda done, total, message: None)
        self._on_done = on_done or (lambda result: None)
        self._on_cancelled = on_cancelled or (lambda: None)
        self._on_error = on_error or (lambda line: None)
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._progress = (0, max(1, int(total)), "starting")
        self._outcome: tuple[str, Any] | None = None
        self._thread: threading.Thread | None = None
        self._reported = False

    # ------------------------------------------------------------------ caller's (main) thread
    def start(self) -> BackgroundJob:
        if self._thread is not None:
            raise RuntimeError("job already started")
        self._thread = threading.Thread(target=self._run, name="PSCGAN job", daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the work to stop at its next check; `on_cancelled` follows from `poll`."""
        self._cancel.set()

    @property
    def running(self) -> bool:
        """True until `poll` has reported the outcome."""
        return self._thread is not None and not self._reported

    def poll(self) -> bool:
        """Report progress; once the work has ended, report its outcome (once). Returns `running`."""
        with self._lock:
            progress, outcome = self._progress, self._outcome
        self._on_progress(*progress)
        if outcome is None or self._reported:
            return self.running
        self._reported = True
        kind, value = outcome
        if kind == "done":
            try:
                self._on_done(value)
            except Exception as err:  # committing the result failed: still one line for the user
                log.exception("PSCGAN: storing the results failed")
                self._on_error(one_line(err))
        elif kind == "cancelled":
            self._on_cancelled()
        else:
            self._on_error(value)
        return False

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker has finished (for scripts and tests); True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is not None and not self._thread.is_alive()

    # ------------------------------------------------------------------ worker thread
    def _set_progress(self, done: int, total: int, message: str) -> None:
        with self._lock:
            self._progress = (int(done), max(1, int(total)), str(message))

    def _run(self) -> None:
        try:
            outcome: tuple[str, Any] = ("done", self._work(self._set_progress, self._cancel.is_set))
        except Cancelled:
            outcome = ("cancelled", None)
        except Exception as err:  # reported on the caller's thread by poll
            if not isinstance(err, PSCGANError):
                log.exception("PSCGAN: the run failed")
            outcome = ("error", one_line(err))
        with self._lock:
            self._outcome = outcome
