"""Provenance records: what made a figure or a JSON result.

Every figure sidecar and JSON result carries :func:`provenance`: the vaetheory version, the git
commit of the source tree when it is a checkout, the command line, the seed and the parameters.
No timestamp is recorded, so the same command and seed give byte-identical records.
"""

from __future__ import annotations

import functools
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from vaetheory import __version__


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit hash of the checkout vaetheory is imported from, or ``None``."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def command_line() -> str:
    """The command that is running, as a shell-quoted string."""
    argv = list(sys.argv)
    if argv and argv[0].endswith(("/vaetheory", "\\vaetheory", "vaetheory")):
        argv[0] = "vaetheory"
    return " ".join(shlex.quote(a) for a in argv)


def provenance(
    *,
    seed: int | None = None,
    parameters: dict[str, Any] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """A JSON-ready record of what produced a result.

    Keys: ``vaetheory_version``, ``git_commit`` (or null), ``command``, ``seed`` (or null),
    ``parameters``, ``python``, and ``torch`` (only if torch is already imported).
    """
    record: dict[str, Any] = {
        "vaetheory_version": __version__,
        "git_commit": git_commit(),
        "command": command if command is not None else command_line(),
        "seed": seed,
        "parameters": dict(parameters or {}),
        "python": platform.python_version(),
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        record["torch"] = torch.__version__
    return record
