"""The app's own temporary space: where Gradio keeps uploads and exports, and which session owns each file.

Gradio's default cache (/tmp/gradio) is shared by every app of the machine, world-readable and never
cleaned, and any file in it can be fetched by URL or handed to the API by anyone. Here each server process
gets a private folder (mode 0700, ``ess-assistant-<pid>-…`` in the system temp dir) set as GRADIO_TEMP_DIR
before the app is built; folders left by dead processes are removed at start, ours at exit. Every file put
there for a session (an upload, an export) is recorded with that session's token: ui.guard serves it to
that session only, and the upload handler indexes only files its own session uploaded.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "ess-assistant-"
EXPORT_MAX_AGE_S = 3600
_DIR_RE = re.compile(rf"^{PREFIX}(\d+)-")
_lock = threading.Lock()
_space: Path | None = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _sweep_stale(root: Path) -> None:
    """Remove the private folders of server processes that are gone (killed, crashed)."""
    for folder in root.glob(f"{PREFIX}*"):
        m = _DIR_RE.match(folder.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))) and _mine(folder):
            shutil.rmtree(folder, ignore_errors=True)
            log.info("Removed stale temporary folder %s", folder)


def _mine(folder: Path) -> bool:
    try:
        return folder.lstat().st_uid == os.getuid() and folder.is_dir() and not folder.is_symlink()
    except OSError:
        return False


def private_space() -> Path:
    """This process's private temporary folder, created (and made Gradio's cache) on first call."""
    global _space
    with _lock:
        if _space is None or not _space.is_dir():
            root = Path(tempfile.gettempdir())
            _sweep_stale(root)
            _space = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))  # mode 0700
            os.chmod(_space, 0o700)
            atexit.register(shutil.rmtree, _space, ignore_errors=True)
        os.environ["GRADIO_TEMP_DIR"] = str(_space)
        return _space


class FileOwners:
    """Which session token owns each file of the private space (in memory: the space dies with the process)."""

    def __init__(self) -> None:
        self._owner: dict[str, str] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(path: str | os.PathLike[str]) -> str:
        return os.path.realpath(path)

    def add(self, path: str | os.PathLike[str], token: str) -> None:
        with self._lock:
            self._owner[self._key(path)] = token

    def owner(self, path: str | os.PathLike[str]) -> str | None:
        with self._lock:
            return self._owner.get(self._key(path))

    def owns(self, token: str | None, path: str | os.PathLike[str]) -> bool:
        return token is not None and self.owner(path) == token

    def forget(self, path: str | os.PathLike[str]) -> None:
        with self._lock:
            self._owner.pop(self._key(path), None)


OWNERS = FileOwners()


def is_private(path: str | os.PathLike[str]) -> bool:
    """True for a path inside this process's private space (the only files ui.guard restricts)."""
    if _space is None:
        return False
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(_space))


def new_token() -> str:
    return secrets.token_urlsafe(24)


def export_dir() -> Path:
    """A fresh folder for one export, in the private space; exports older than an hour are removed first."""
    root = private_space() / "exports"
    root.mkdir(exist_ok=True)
    cutoff = time.time() - EXPORT_MAX_AGE_S
    for old in root.iterdir():
        if old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=root))


def discard(paths: list[str] | list[Path]) -> None:
    """Delete used uploads from the private space (they were copied to the index's uploads folder)."""
    for path in paths:
        if is_private(path):
            Path(path).unlink(missing_ok=True)
            OWNERS.forget(path)
