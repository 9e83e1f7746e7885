"""The corpus as a stream of tokenized windows, grouped into fixed chunks.

Every document is tokenized (no special tokens; BOS prepended to each window with ``bos``) and
cut into windows of at most ``seq_len`` tokens; windows are grouped into chunks of at most
``chunk_tokens`` padded tokens (rows × longest row), sorted by length within pools of a few
chunks so that rows of a chunk have similar lengths. A recorded token's global position is
its place among all recorded tokens of the stream (BOS is never recorded), so positions, chunk
boundaries and the chunks' batches are the same in every run over the same corpus and options:
that is what makes resumed and sharded runs give identical results. ``max_tokens`` ends the
stream after that many recorded tokens (the last window cut short).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

_TOKENIZE_BATCH = 256


@dataclass(frozen=True)
class Window:
    """One model input row: recorded tokens ``doc_ids[start:start + len(ids)]`` of document ``doc``.

    Attributes:
        doc: the document's number in the corpus.
        start: the first recorded token's position in the document.
        ids: the recorded token ids (BOS not included).
        first: the global position of ``ids[0]``.
    """

    doc: int
    start: int
    ids: tuple[int, ...]
    first: int


@dataclass
class Chunk:
    """A batch of windows, padded on the right.

    Attributes:
        index: the chunk's number in the stream.
        windows: its windows, in order.
        input_ids: ``(rows, pos)`` token ids (BOS first when asked, pad after the end).
        attention_mask: ``(rows, pos)``, 1 on real tokens.
        select: ``(T,)`` indices into the flattened ``(rows * pos)`` positions of the recorded
            tokens, in stream order.
        positions: ``(T,)`` their global positions.
    """

    index: int
    windows: list[Window]
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    select: torch.Tensor
    positions: torch.Tensor


def tokenized_documents(documents, tokenizer: Any) -> Iterator[tuple[int, list[int]]]:
    """``(doc, token ids)`` for every document, tokenized in batches without special tokens."""
    batch: list[str] = []
    number = 0
    for text in documents:
        batch.append(text)
        if len(batch) == _TOKENIZE_BATCH:
            for ids in tokenizer(batch, add_special_tokens=False)["input_ids"]:
                yield number, list(ids)
                number += 1
            batch = []
    if batch:
        for ids in tokenizer(batch, add_special_tokens=False)["input_ids"]:
            yield number, list(ids)
            number += 1


def windows(docs: Iterator[tuple[int, list[int]]], seq_len: int,
            max_tokens: int | None = None) -> Iterator[Window]:  # fmt: skip
    """Cut documents into windows of at most ``seq_len`` recorded tokens (see the module doc)."""
    total = 0
    for doc, ids in docs:
        for start in range(0, len(ids), seq_len):
            piece = ids[start : start + seq_len]
            if max_tokens is not None:
                piece = piece[: max_tokens - total]
            if not piece:
                return
            yield Window(doc, start, tuple(piece), total)
            total += len(piece)
            if max_tokens is not None and total >= max_tokens:
                return


def _batch(index: int, rows: list[Window], bos: int | None, pad: int) -> Chunk:
    extra = 0 if bos is None else 1
    width = extra + max(len(w.ids) for w in rows)
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)  # (rows, pos)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    select, positions = [], []
    for row, window in enumerate(rows):
        n = len(window.ids)
        if bos is not None:
            input_ids[row, 0] = bos
        input_ids[row, extra : extra + n] = torch.tensor(window.ids)
        mask[row, : extra + n] = 1
        select.append(torch.arange(n) + row * width + extra)
        positions.append(torch.arange(n) + window.first)
    return Chunk(index, rows, input_ids, mask, torch.cat(select), torch.cat(positions))


#: Windows are pooled this many chunks' worth at a time and sorted by length inside the pool,
#: so that a chunk's rows have similar lengths (little padding).
POOL_CHUNKS = 8


def _pools(stream: Iterator[Window], tokens: int) -> Iterator[list[Window]]:
    pool: list[Window] = []
    size = 0
    for window in stream:
        pool.append(window)
        size += len(window.ids)
        if size >= tokens:
            yield sorted(pool, key=lambda w: len(w.ids))  # stable: ties keep stream order
            pool, size = [], 0
    if pool:
        yield sorted(pool, key=lambda w: len(w.ids))


def chunks(stream: Iterator[Window], chunk_tokens: int, bos: int | None = None, pad: int = 0,
           owned=None) -> Iterator[Chunk]:  # fmt: skip
    """Group windows into chunks of at most ``chunk_tokens`` padded tokens.

    Windows are taken :data:`POOL_CHUNKS` chunks' worth at a time and sorted by length within
    that pool before grouping (the grouping is fixed by the stream, so every run forms the
    same chunks).

    Args:
        stream: the windows, in order.
        chunk_tokens: the padded-token budget of a chunk (rows × longest row, BOS included).
        bos: the BOS id to put first in every row, or None.
        pad: the id written after a row's end (masked out).
        owned: ``owned(index)`` says whether to build chunk ``index`` (the others are counted
            and skipped: a shard, or the chunks a resumed run has done); None: all.
    """
    extra = 0 if bos is None else 1
    index = 0
    for pool in _pools(stream, POOL_CHUNKS * chunk_tokens):
        rows: list[Window] = []
        longest = 0
        for window in pool:
            size = len(window.ids) + extra
            if rows and (len(rows) + 1) * max(longest, size) > chunk_tokens:
                if owned is None or owned(index):
                    yield _batch(index, rows, bos, pad)
                index += 1
                rows, longest = [], 0
            rows.append(window)
            longest = max(longest, size)
        if rows:
            if owned is None or owned(index):
                yield _batch(index, rows, bos, pad)
            index += 1
