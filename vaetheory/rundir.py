"""Run directories: one writer at a time, every file written atomically, damaged files named.

A command that writes a run (``train``, ``reproduce``, ``figures``, and every later one) opens its
output directory as a :class:`RunDirectory`:

* **Lock.** ``DIR/.vaetheory.lock`` is locked with ``fcntl.flock(LOCK_EX | LOCK_NB)`` for as long
  as the run holds the directory; it records the holder (pid, host, start time, command). A second
  writer gets a ``ValueError`` (exit 2 on the command line) naming the holder. The lock is
  released by the kernel when the process ends, however it ends; a stale lock file is harmless.
  (``flock`` is advisory and local: two machines writing one NFS directory are not excluded.)
* **Reuse.** A directory that already holds a run (any of the command's ``markers`` exists) is
  reused only with ``resume=True`` (``--resume``) or ``overwrite=True`` (``--overwrite``, which
  removes the previous run's files first); otherwise the error says which files are there.
* **Atomic files.** :func:`atomic_write` writes a temporary file in the same directory, fsyncs
  it, ``os.replace``-s it over the target and fsyncs the directory: a reader (or a rerun after a
  kill, SIGKILL included) sees the old file or the new one, never a part. The previous
  checkpoint therefore stays until the new one is complete. A full disk (``ENOSPC``) leaves the
  previous file intact, and the error says so.
* **Named damage.** :func:`read_json`, :func:`read_jsonl` and :func:`read_checkpoint` turn a
  missing, empty, truncated or refused file into a ``ValueError`` naming the file and what is
  wrong (never torch's advice to load with ``weights_only=False``).

This module imports neither torch nor matplotlib at import (``read_checkpoint`` imports torch
when called).
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

LOCK_NAME = ".vaetheory.lock"
#: bytes per write call of :func:`atomic_write` (a fault hook sees a large file in several writes)
CHUNK = 1 << 20

#: testing hook: ``hook(path, file) -> file`` wraps the temporary file of every atomic write
_WRITE_HOOK: Callable[[Path, BinaryIO], BinaryIO] | None = None


@contextlib.contextmanager
def write_fault_hook(hook: Callable[[Path, BinaryIO], BinaryIO]) -> Iterator[None]:
    """Wrap the temporary file of every :func:`atomic_write` in ``hook(path, file)`` inside the block.

    For fault-injection tests: the wrapper may raise ``OSError(ENOSPC)`` (a full disk) or kill the
    process after a partial write. Not for production use.
    """
    global _WRITE_HOOK
    previous, _WRITE_HOOK = _WRITE_HOOK, hook
    try:
        yield
    finally:
        _WRITE_HOOK = previous


def prepare_output_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Create ``out_dir`` if needed and check it is a writable directory.

    Raises ``ValueError`` naming the path if a file is in the way or it cannot be written.
    """
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise ValueError(f"output directory {str(path)!r} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create output directory {str(path)!r}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"output directory {str(path)!r} is not writable")
    return path


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on directories
        pass
    finally:
        os.close(fd)


def _write_error(path: Path, exc: OSError) -> ValueError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ValueError(
            f"no space left on the device writing {str(path)!r}: nothing was replaced, the previous "
            f"{path.name} (if there was one) is intact; free space and rerun (with --resume for a run)"
        )
    reason = exc.strerror or exc
    return ValueError(f"cannot write {str(path)!r}: {reason}; the previous {path.name} is intact")


def atomic_write(path: str | os.PathLike[str], content: bytes | str) -> Path:
    """Write ``content`` to ``path`` atomically (temporary file, fsync, ``os.replace``, fsync the directory).

    On any failure the temporary file is removed and ``path`` is untouched; an ``OSError``
    (``ENOSPC`` included) becomes a ``ValueError`` naming the file and saying the old one is intact.
    """
    path = Path(path)
    data = content.encode() if isinstance(content, str) else bytes(content)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _write_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as raw:
            out = _WRITE_HOOK(path, raw) if _WRITE_HOOK is not None else raw
            view = memoryview(data)
            for start in range(0, len(view), CHUNK):
                out.write(view[start : start + CHUNK])
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _write_error(path, exc) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_json(path: str | os.PathLike[str], value: Any) -> Path:
    """:func:`atomic_write` of ``value`` as indented JSON with a final newline."""
    return atomic_write(path, json.dumps(value, indent=2) + "\n")


def _read_bytes(path: Path, what: str) -> bytes:
    if not path.exists():
        raise ValueError(f"{what} {str(path)!r} is missing")
    if path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a directory, not a file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from None


def read_json(path: str | os.PathLike[str], *, what: str = "file") -> Any:
    """The JSON value in ``path``; a missing, empty or damaged file is a ``ValueError`` naming it."""
    path = Path(path)
    data = _read_bytes(path, what)
    if not data.strip():
        raise ValueError(f"{what} {str(path)!r} is empty (the write that made it did not finish)")
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ValueError(
            f"{what} {str(path)!r} is damaged: not valid JSON{where} (truncated or overwritten?)"
        ) from None


def read_jsonl(path: str | os.PathLike[str], *, what: str = "log") -> tuple[list[Any], bool]:
    """``(values, torn)``: one JSON value per line of ``path``, and whether a torn last line was dropped.

    A last line without its newline that does not parse is an append cut short by a kill: it is
    dropped and ``torn`` is True. Any other line that does not parse is a ``ValueError`` naming
    the file and the line (numbered from 1, as an editor does).
    """
    path = Path(path)
    text = _read_bytes(path, what).decode("utf-8", errors="replace")
    lines = text.split("\n")
    values, torn = [], False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            values.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):  # no newline after it: the last append did not finish
                torn = True
                continue
            raise ValueError(f"{what} {str(path)!r} is damaged: line {number} is not valid JSON") from None
    return values, torn


def read_checkpoint(path: str | os.PathLike[str]) -> dict:
    """A checkpoint loaded with ``torch.load(weights_only=True)`` (tensors, numbers, containers only).

    Missing, empty, truncated or unreadable files and files holding other objects are refused
    with a ``ValueError`` naming the file and what is wrong; no code in the file runs.
    """
    import pickle

    import torch

    path = Path(path)
    data = _read_bytes(path, "checkpoint")
    if not data:
        raise ValueError(
            f"checkpoint {str(path)!r} is empty (0 bytes): the write that made it did not finish"
        )
    try:
        state = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError:
        raise ValueError(
            f"checkpoint {str(path)!r} holds objects other than tensors, numbers and containers; "
            "vaetheory refuses to load it, since loading it would run code from the file"
        ) from None
    except Exception as exc:  # torch raises RuntimeError, EOFError, zipfile errors, ... for damage
        if "weights_only" in str(exc) or "Weights only" in str(exc):
            raise ValueError(
                f"checkpoint {str(path)!r} holds objects other than tensors, numbers and containers; "
                "vaetheory refuses to load it, since loading it would run code from the file"
            ) from None
        raise ValueError(
            f"checkpoint {str(path)!r} is damaged ({len(data)} bytes; truncated, or not a torch "
            f"checkpoint: {type(exc).__name__})"
        ) from None
    if not isinstance(state, dict):
        raise ValueError(f"checkpoint {str(path)!r} is not a vaetheory checkpoint (not a dict)")
    return state


def _holder_record(command: str | None) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": command if command is not None else " ".join(sys.argv),
    }


def _describe_holder(lock_path: Path) -> str:
    try:
        holder = json.loads(lock_path.read_text())
        return (
            f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}, "
            f"command {holder.get('command')!r}"
        )
    except (OSError, ValueError, AttributeError):
        return "a process that has not yet recorded itself"


class RunDirectory:
    """An output directory held by one run: locked, reused only on request, written atomically.

    ``markers`` are glob patterns (relative to the directory) whose presence means the directory
    holds a run; ``remove_on_overwrite`` the file names removed when ``overwrite=True`` (default:
    the markers that are plain names). ``what`` names the run in messages (``"training run"``).
    Use as a context manager, or call :meth:`open` and :meth:`close`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        markers: Sequence[str] = (),
        resume: bool = False,
        overwrite: bool = False,
        what: str = "run",
        remove_on_overwrite: Sequence[str] | None = None,
        command: str | None = None,
    ):
        if resume and overwrite:
            raise ValueError("give --resume (continue the run) or --overwrite (replace it), not both")
        self.path = Path(path)
        self.markers = tuple(markers)
        self.resume = bool(resume)
        self.overwrite = bool(overwrite)
        self.what = what
        self.remove_on_overwrite = tuple(
            remove_on_overwrite
            if remove_on_overwrite is not None
            else [m for m in self.markers if not any(c in m for c in "*?[/")]
        )
        self.command = command
        self._lock_fd: int | None = None
        self.existing: list[str] = []

    # -- holding the directory -------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._lock_fd is not None

    def open(self) -> RunDirectory:
        """Create the directory if needed, take the lock, and check what it holds (class docstring)."""
        import fcntl

        if self.is_open:
            return self
        prepare_output_dir(self.path)
        lock_path = self.path / LOCK_NAME
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            reason = exc.strerror or exc
            raise ValueError(f"cannot create the lock file {str(lock_path)!r}: {reason}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ValueError(
                f"output directory {str(self.path)!r} is in use by another run "
                f"({_describe_holder(lock_path)}); "
                "wait for it to finish or choose another output directory"
            ) from None
        try:
            record = (json.dumps(_holder_record(self.command)) + "\n").encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, record, 0)
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            raise _write_error(lock_path, exc) from None
        self._lock_fd = fd
        try:
            self._remove_stale_temporaries()
            self.existing = sorted({m for m in self.markers if any(self.path.glob(m))})
            if self.existing and not (self.resume or self.overwrite):
                raise ValueError(
                    f"output directory {str(self.path)!r} already holds a {self.what} "
                    f"({', '.join(self.existing)}); continue it with --resume (resume=True) or replace it "
                    "with --overwrite (overwrite=True), or choose another output directory"
                )
            if self.overwrite:
                for name in self.remove_on_overwrite:
                    with contextlib.suppress(FileNotFoundError):
                        (self.path / name).unlink()
        except BaseException:
            self.close()
            raise
        return self

    def _remove_stale_temporaries(self) -> None:
        """Temporary files of atomic writes that a killed process left (we hold the lock)."""
        for tmp in self.path.glob(".*.tmp"):
            if tmp.name != LOCK_NAME and tmp.is_file():
                with contextlib.suppress(OSError):
                    tmp.unlink()

    def close(self) -> None:
        """Release the lock (the lock file stays, emptied)."""
        import fcntl

        if self._lock_fd is None:
            return
        fd, self._lock_fd = self._lock_fd, None
        try:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> RunDirectory:
        return self.open()

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- files ------------------------------------------------------------------------------
    def file(self, name: str) -> Path:
        return self.path / name

    def exists(self, name: str) -> bool:
        return (self.path / name).exists()

    def _check_open(self) -> None:
        if not self.is_open:
            raise RuntimeError(f"run directory {str(self.path)!r} is not open (not locked)")

    def write_text(self, name: str, text: str) -> Path:
        self._check_open()
        return atomic_write(self.path / name, text)

    def write_bytes(self, name: str, data: bytes) -> Path:
        self._check_open()
        return atomic_write(self.path / name, data)

    def write_json(self, name: str, value: Any) -> Path:
        self._check_open()
        return atomic_write_json(self.path / name, value)

    def write_checkpoint(self, name: str, state: dict) -> Path:
        """``torch.save(state)`` to ``name`` atomically; the previous file stays until this one is whole."""
        import torch

        self._check_open()
        buffer = io.BytesIO()
        torch.save(state, buffer)
        return atomic_write(self.path / name, buffer.getvalue())

    def read_json(self, name: str, *, what: str = "file") -> Any:
        return read_json(self.path / name, what=what)

    def read_checkpoint(self, name: str) -> dict:
        return read_checkpoint(self.path / name)


__all__ = [
    "LOCK_NAME",
    "RunDirectory",
    "atomic_write",
    "atomic_write_json",
    "prepare_output_dir",
    "read_checkpoint",
    "read_json",
    "read_jsonl",
    "write_fault_hook",
]
