"""Run sympy work with a time bound, so a step can never hang the checker.

In the main thread the bound is a ``SIGALRM`` interval timer whose handler raises an exception
that derives from :class:`BaseException` (so sympy's ``except Exception`` blocks cannot swallow
it) and re-fires every 50 ms until the work stops; it holds its fire inside a gc callback or a
``__del__``, and an expiry that still lands where Python cannot propagate it (a weakref callback)
is dropped from ``sys.unraisablehook`` while the work runs: it re-fires 50 ms later.
Elsewhere (a worker thread, or a platform without ``setitimer``) the work runs in a forked child
process that is killed at the bound. A timer already set by someone else (pytest-timeout) is
restored afterwards.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class StepTimeout(Exception):
    """The work did not finish within its bound."""


class _Expired(BaseException):
    pass


def _alarm_available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


#: the end (time.monotonic) of the innermost bound in force, for :func:`run_isolated`
_DEADLINES: list[float] = []


def run_bounded(fn: Callable[[], T], seconds: float) -> T:
    """``fn()`` if it finishes within ``seconds``; otherwise raise :class:`StepTimeout`."""
    if seconds <= 0:
        raise StepTimeout(f"no time left (bound {seconds:g} s)")
    if _alarm_available() and not _DEADLINES:
        _DEADLINES.append(time.monotonic() + seconds)
        try:
            return _run_with_alarm(fn, seconds)
        finally:
            _DEADLINES.pop()
    return run_isolated(fn, seconds)


def run_isolated(fn: Callable[[], T], seconds: float | None = None) -> T:
    """``fn()`` in a forked child process, killed at the bound (default: the bound in force).

    For sympy routines that build global tables lazily (``integrate`` builds meijerint's lookup
    table on first use): interrupting them in this process would leave the table half-built.
    """
    if seconds is None:
        seconds = (_DEADLINES[-1] - time.monotonic()) if _DEADLINES else 60.0
    if seconds <= 0:
        raise StepTimeout("no time left")
    return _run_in_child(fn, seconds)


def _in_finaliser(frame) -> bool:
    """Whether ``frame`` runs inside a gc callback or a ``__del__`` (walking up the stack).

    Python cannot propagate an exception out of those: it reports it to ``sys.unraisablehook``
    and carries on (pytest turns such reports into failures). The handler then does not raise;
    the timer re-fires 50 ms later, when the work is back in its own frames.
    """
    import gc

    finalisers = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    while frame is not None:
        if frame.f_code in finalisers or frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def _run_with_alarm(fn: Callable[[], T], seconds: float) -> T:
    armed = {"on": True}

    def handler(signum, frame):
        if armed["on"] and not _in_finaliser(frame):
            raise _Expired

    def disarm() -> None:
        armed["on"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)

    def unraisable(info) -> None:
        # the alarm landed where Python cannot propagate an exception (a weakref or gc callback,
        # a finaliser); it re-fires 50 ms later, so this report is dropped, all others passed on
        if info.exc_type is not _Expired:
            old_unraisable(info)

    start = time.monotonic()
    old_unraisable = sys.unraisablehook
    sys.unraisablehook = unraisable
    old_handler = signal.signal(signal.SIGALRM, handler)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        try:
            return fn()
        finally:
            disarm()
    except _Expired:
        disarm()
        raise StepTimeout(f"sympy did not finish within {seconds:g} s") from None
    finally:
        signal.signal(signal.SIGALRM, old_handler)
        sys.unraisablehook = old_unraisable
        if old_delay > 0:
            remaining = max(old_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, remaining, old_interval)


_IN_CHILD = [False]


def _child(conn, fn) -> None:  # pragma: no cover - runs in the child process
    if not _IN_CHILD[0]:
        _IN_CHILD[0] = True
        os.setpgrp()  # its own process group, so killing the group also ends any grandchild
    try:
        conn.send(("ok", fn()))
    except Exception as exc:
        conn.send(("error", exc))
    finally:
        conn.close()


def _kill_group(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.is_alive():
        proc.kill()


def _run_in_child(fn: Callable[[], Any], seconds: float) -> Any:
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn), daemon=False)  # a child may need its own child
    proc.start()
    child.close()
    try:
        if not parent.poll(seconds):
            raise StepTimeout(f"sympy did not finish within {seconds:g} s")
        status, value = parent.recv()
    finally:
        if _IN_CHILD[0]:
            if proc.is_alive():
                proc.kill()
        else:
            _kill_group(proc)
        proc.join()
        parent.close()
    if status == "error":
        raise value
    return value
