"""Output paths: checked before any work, and files that are never half-written.

Every command that writes checks its target first (:func:`check_file_target`,
:func:`check_folder_target`, :func:`check_replaceable_folder`), so bad output paths fail in a second with a one-line
:class:`~vocablens.errors.InputError`, before minutes of computing. Files are then written to a
temporary name beside the target and renamed over it (:func:`atomic_path`); folders are built
beside the target and swapped in whole (:func:`replaced_folder`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from vocablens.errors import InputError


def _writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried, not guessed: root, ACLs, read-only)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _existing_ancestor(path: Path) -> Path:
    """The nearest ancestor of ``path`` (or ``path`` itself) that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_file_target(target: str | os.PathLike[str]) -> Path:
    """Check that a file can be written at ``target`` (its folder must exist); returns it.

    Raises:
        InputError: ``target`` is a folder, its folder does not exist or is a file, or the folder
            cannot be written.
    """
    target = Path(target)
    if target.is_dir():
        raise InputError(f"cannot write {target}: it is a folder")
    parent = target.parent
    if not parent.exists():
        above = _existing_ancestor(parent)
        if not above.is_dir():
            raise InputError(f"cannot write {target}: {above} is a file, not a folder")
        raise InputError(f"output folder does not exist: {parent}")
    if not parent.is_dir():
        raise InputError(f"cannot write {target}: {parent} is a file, not a folder")
    if not _writable(parent):
        raise InputError(f"cannot write {target}: the folder {parent} is not writable")
    return target


def check_folder_target(target: str | os.PathLike[str]) -> Path:
    """Check that a folder can be created (or written into) at ``target``; returns it.

    Missing parent folders are fine (they are created when the folder is); nothing is created
    here.

    Raises:
        InputError: ``target`` or one of its parents is a file, or the nearest existing folder
            cannot be written.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InputError(f"cannot write the folder {target}: it is a file")
    above = _existing_ancestor(target)
    if not above.is_dir():
        raise InputError(f"cannot write the folder {target}: {above} is a file, not a folder")
    if not _writable(above):
        raise InputError(f"cannot write the folder {target}: {above} is not writable")
    return target


def check_replaceable_folder(target: str | os.PathLike[str], marker: str, noun: str) -> Path:
    """Check that a folder written aside and swapped in whole may replace ``target``; returns it.

    ``target`` may be absent, an empty folder, or a folder this kind of writer made earlier (it
    holds the file ``marker``); anything else is refused, so no one's folder is ever replaced.
    The temporary folder is made beside ``target``, so its parent (or the nearest existing
    ancestor) must be writable (:func:`check_folder_target`).

    Args:
        target: the folder to write.
        marker: the name of the file every such folder holds (``.vocablens-report``).
        noun: what the folder is, for the messages (``report``, ``page``).

    Raises:
        InputError: ``target`` is a file, a non-empty folder without ``marker``, or its parent
            cannot be written.
    """
    target = Path(target)
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise InputError(f"cannot write the {noun} to {target}: it is a file")
        if any(target.iterdir()) and not (target / marker).is_file():
            raise InputError(
                f"refusing to replace {target}: it is not empty and not a vocablens {noun}"
            )
    check_folder_target(target.parent)
    return target


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` atomically.

    The caller writes the whole file to the yielded path. It is flushed to disk and renamed over
    ``target``; on any exception (Ctrl-C included) it is removed and ``target`` stays as it was.
    The name is fresh rather than made by ``mkstemp``, whose 0600 mode would stay on the file.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Replace ``out`` by the finished folder ``tmp`` (two renames on the same file system)."""
    if not (out.exists() or out.is_symlink()):
        tmp.rename(out)
        return
    old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def replaced_folder(target: Path) -> Iterator[Path]:
    """Yield a new folder beside ``target``; on success it replaces ``target`` whole.

    The caller writes every file into the yielded folder (mode 0755). When the block raises,
    the folder is removed and ``target`` is left as it was, so a failed or interrupted run
    never leaves a half-written folder over a good one. Check ``target`` first
    (:func:`check_replaceable_folder`).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        os.chmod(tmp, 0o755)
        yield tmp
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
