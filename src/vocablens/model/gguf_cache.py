"""Where de-quantized GGUF models are cached, keyed by the GGUF file's content.

The key is the SHA-256 of the file's bytes, so every copy of the same file (two checkouts, a
moved virtual environment) shares one cached copy. Hashing SmolLM2's 98 MB file takes 0.3 s; a small JSON index in the cache (``gguf-index.json``) remembers the hash of each
(path, size, mtime), so later loads of an unchanged file do not hash it again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from vocablens.atomic import write_text_atomic

INDEX = "gguf-index.json"


def cache_dir() -> Path:
    """Where de-quantized models are cached (``$VOCABLENS_CACHE`` or ``~/.cache/vocablens``)."""
    env = os.environ.get("VOCABLENS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vocablens"


def file_sha256(path: Path, chunk_mb: int = 8) -> str:
    """The SHA-256 of a file's bytes, read a few megabytes at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_mb << 20):
            digest.update(block)
    return digest.hexdigest()


def _read_index(path: Path) -> dict[str, Any]:
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or damaged: it is only a shortcut
    return index if isinstance(index, dict) else {}


def gguf_sha256(gguf: Path) -> str:
    """The content hash of ``gguf``, from the index when the file is unchanged since it was hashed."""
    stat = gguf.stat()
    where = str(gguf.resolve())
    index_path = cache_dir() / INDEX
    index = _read_index(index_path)
    entry = index.get(where)
    if (
        isinstance(entry, dict)
        and entry.get("size") == stat.st_size
        and entry.get("mtime_ns") == stat.st_mtime_ns
        and isinstance(entry.get("sha256"), str)
    ):
        return entry["sha256"]
    digest = file_sha256(gguf)
    index = {path: item for path, item in index.items() if Path(path).is_file()}  # drop gone files
    index[where] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
    try:
        index_path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(index_path, json.dumps(index, indent=1, sort_keys=True))
    except OSError:
        pass  # a read-only cache only costs a re-hash next time
    return digest


def gguf_cache_path(gguf: Path) -> Path:
    """The cache folder of ``gguf``'s de-quantized copy (named by its content hash)."""
    return cache_dir() / f"gguf-{gguf_sha256(gguf)[:16]}"
