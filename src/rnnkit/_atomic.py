"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Content goes to a temporary file in the destination folder (same file system, so the rename is
atomic), is flushed to disk, and then replaces the destination with ``os.replace``; the folder is
synced so the new name is durable. On any error the temporary file is removed and the destination
is left as it was. Used for weights, settings, metrics, plots and reports alike.
"""
from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; when the block succeeds, move it onto ``path``.

    The parent folder is created when missing. The temporary file is created with ``open("x")``
    rather than ``tempfile`` so it gets the usual (umask) permissions, and they are restored if the
    writer recreated the file (safetensors' ``save_file`` makes it owner-only).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "xb"):
        pass
    mode = tmp.stat().st_mode & 0o777
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_directory(path.parent)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    """``obj`` as indented JSON."""
    return write_text_atomic(path, json.dumps(obj, indent=2) + "\n")


def _fsync_directory(directory: Path) -> None:
    # The rename lives in the directory entry; syncing it makes the new name durable. Best effort:
    # not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
