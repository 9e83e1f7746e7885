"""Corpus sources: plain text, JSONL and Parquet files, local ``datasets`` datasets, WordNet.

A corpus is a sequence of documents (strings) in a fixed order; a document's number ``doc`` is
its place in that order (0-based). Sources:

* ``None`` or ``"wordnet"``: the embedded default, the glosses (definitions and example
  sentences) of the WordNet 3.0 database that Debian's ``wordnet-base`` installs
  (``/usr/share/wordnet/data.{noun,verb,adj,adv}``): one document per synset, 117,659 in all.
* a ``.txt`` file: documents separated by blank lines.
* a ``.jsonl`` file: one JSON object per line, its ``text`` field (or a bare JSON string).
* a ``.parquet`` file: its ``text`` column.
* a folder saved by ``datasets`` (``save_to_disk``): its ``text`` column (the ``train`` split of
  a ``DatasetDict``, or its only split).
* any other folder: every ``.txt`` / ``.jsonl`` / ``.parquet`` file below it, by path.

The fingerprint is the SHA-256 of the source files' bytes (of a dataset's Arrow files), so a
resumed run can check it reads the same corpus.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vocablens.errors import InputError

WORDNET = "wordnet"
SUFFIXES = (".txt", ".jsonl", ".parquet")
_WORDNET_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")


def _wordnet_dir() -> Path:
    from vocablens.annotate.wordnet import DEBIAN_DIR, WordNetNotFoundError, find_wordnet_dir

    try:
        found = find_wordnet_dir()
    except WordNetNotFoundError as exc:
        raise InputError(str(exc)) from exc
    folder = Path(str(found))
    return folder if (folder / "data.noun").is_file() else DEBIAN_DIR


def wordnet_glosses(folder: Path) -> Iterator[str]:
    """The glosses of the WordNet data files in ``folder``, one per synset, in file order."""
    for name in _WORDNET_FILES:
        with open(folder / name, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("  "):  # the licence header
                    continue
                _, bar, gloss = line.partition(" | ")
                if bar and gloss.strip():
                    yield gloss.strip()


def _text_documents(path: Path) -> Iterator[str]:
    paragraph: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                paragraph.append(line.rstrip("\n"))
            elif paragraph:
                yield "\n".join(paragraph)
                paragraph = []
    if paragraph:
        yield "\n".join(paragraph)


def _jsonl_documents(path: Path, field: str) -> Iterator[str]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not a JSON line ({exc.msg})") from exc
            text = item.get(field) if isinstance(item, dict) else item
            if not isinstance(text, str):
                raise InputError(f"{path}:{number}: no string field {field!r}")
            yield text


def _parquet_documents(path: Path, field: str) -> Iterator[str]:
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
        raise InputError(f"cannot read {path} as Parquet") from exc
    if field not in handle.schema_arrow.names:
        raise InputError(f"{path} has no column {field!r}")
    for batch in handle.iter_batches(columns=[field], batch_size=1024):
        for text in batch.column(0).to_pylist():
            yield text if isinstance(text, str) else ""


def _is_dataset(folder: Path) -> bool:
    names = ("dataset_info.json", "state.json", "dataset_dict.json")
    return any((folder / name).is_file() for name in names)


def _load_dataset(folder: Path) -> Any:
    import datasets

    try:
        data = datasets.load_from_disk(str(folder))
    except Exception as exc:  # datasets raises many kinds for a damaged folder
        raise InputError(f"cannot load the dataset {folder}: {str(exc).splitlines()[0]}") from exc
    if isinstance(data, datasets.DatasetDict):
        splits = sorted(data)
        if "train" in data:
            data = data["train"]
        elif len(splits) == 1:
            data = data[splits[0]]
        else:
            raise InputError(f"the dataset {folder} has splits {splits} and none is 'train'")
    return data


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Corpus:
    """A corpus source, resolved and checked (no document read yet).

    Attributes:
        source: what the user named (a path, or ``"wordnet"``).
        kind: ``"wordnet"``, ``"files"`` or ``"dataset"``.
        files: the files read, in order (the dataset's folder for ``"dataset"``).
        field: the text field / column of JSONL, Parquet and dataset sources.
    """

    source: str
    kind: str
    files: tuple[Path, ...]
    field: str = "text"

    def documents(self) -> Iterator[str]:
        """The documents, in order."""
        if self.kind == WORDNET:
            yield from wordnet_glosses(self.files[0].parent)
        elif self.kind == "dataset":
            data = _load_dataset(self.files[0])
            for row in data.select_columns([self.field]).iter(batch_size=1024):
                for text in row[self.field]:
                    yield text if isinstance(text, str) else ""
        else:
            for path in self.files:
                suffix = path.suffix.lower()
                if suffix == ".txt":
                    yield from _text_documents(path)
                elif suffix == ".jsonl":
                    yield from _jsonl_documents(path, self.field)
                else:
                    yield from _parquet_documents(path, self.field)

    def fingerprint(self) -> str:
        """SHA-256 of the source's bytes (a dataset's Arrow files and state)."""
        if self.kind == "dataset":
            folder = self.files[0]
            files = sorted(p for p in folder.rglob("*") if p.is_file())
            return _hash_files(files)
        return _hash_files(list(self.files))

    def describe(self) -> dict[str, Any]:
        """The source as the manifest records it."""
        return {"source": self.source, "kind": self.kind, "field": self.field,
                "files": [str(p) for p in self.files]}  # fmt: skip


def open_corpus(source: str | os.PathLike[str] | None, field: str = "text") -> Corpus:
    """Resolve ``source`` into a :class:`Corpus` (see the module docstring for the kinds).

    Raises:
        InputError: the path does not exist, has an unknown format, or is a dataset without the
            text column.
    """
    if source is None or str(source) == WORDNET:
        folder = _wordnet_dir()
        return Corpus(WORDNET, WORDNET, tuple(folder / name for name in _WORDNET_FILES))
    path = Path(source).expanduser()
    if not path.exists():
        raise InputError(f"corpus not found: {source}")
    if path.is_dir():
        if _is_dataset(path):
            data = _load_dataset(path)
            if field not in data.column_names:
                raise InputError(f"the dataset {path} has no column {field!r}")
            return Corpus(str(source), "dataset", (path,), field)
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            raise InputError(f"corpus folder {path} holds no .txt, .jsonl or .parquet file")
        return Corpus(str(source), "files", tuple(files), field)
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(
            f"unknown corpus format {path.suffix or path.name!r}: use .txt, .jsonl, .parquet, a "
            "folder of them, a saved datasets folder, or 'wordnet'"
        )
    return Corpus(str(source), "files", (path,), field)
