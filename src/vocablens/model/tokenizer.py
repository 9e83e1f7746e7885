"""What tokenizers mark, in one place: word-start markers of the pieces, and whole-word tokens.

Byte-level BPE (GPT-2, Llama 3, SmolLM2) writes a leading space as ``Ġ`` (and a newline as ``Ċ``,
a tab as ``ĉ``); SentencePiece (Llama 2, Gemma) writes a leading space as ``▁``.

Pieces of one character: byte-level BPE stores bytes, each as one character of GPT-2's
byte ↔ unicode table, so a multi-byte character may be split over tokens (``日`` = ``æĹ`` + ``¥``:
bytes ``E6 97`` + ``A5``) and decoding one such token alone gives ``�``. SentencePiece with byte
fallback writes a byte as the piece ``<0xE6>``. :func:`piece_bytes` gives those tokens' bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from vocablens.errors import InputError

#: Raw-piece markers and the characters they stand for.
MARKER_TEXT = {"Ġ": " ", "▁": " ", "Ċ": "\n", "ĉ": "\t", "č": "\r"}
#: Markers of a leading space (a word start).
WORD_START_MARKERS = ("Ġ", "▁")


def _tokenizer_size(tokenizer: Any, vocab_size: int) -> int:
    return min(vocab_size, len(tokenizer))


def whole_word_tokens(
    tokenizer: Any, vocab_size: int | None = None, min_chars: int = 2
) -> list[int]:
    """Ids of tokens that are a whole word: a leading space, then only letters.

    Args:
        tokenizer: a ``transformers`` tokenizer.
        vocab_size: only consider ids below this (e.g. the unembedding's rows).
        min_chars: minimum number of letters.

    Returns:
        Sorted token ids, e.g. those of ``" Paris"`` and ``" the"`` but not ``"ing"`` or ``" 42"``.

    Raises:
        InputError: no tokenizer.
    """
    if tokenizer is None:
        raise InputError("the 'words' token set needs a tokenizer; the model has none")
    ids = list(range(_tokenizer_size(tokenizer, vocab_size or len(tokenizer))))
    raw = tokenizer.convert_ids_to_tokens(ids)
    texts = piece_texts(tokenizer, ids)
    words = []
    for token_id, piece, text in zip(ids, raw, texts, strict=True):
        starts_word = text.startswith(" ") or (
            isinstance(piece, str) and piece.startswith(WORD_START_MARKERS)
        )
        letters = text.strip()
        if starts_word and len(letters) >= min_chars and letters.isalpha():
            words.append(token_id)
    return words


_BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


@lru_cache(maxsize=1)
def byte_table() -> dict[str, int]:
    """GPT-2's byte-level table, inverted: the character that stands for each byte → the byte.

    Printable Latin-1 bytes stand for themselves (``"a"`` → 0x61, ``"é"`` → 0xE9); the other 68
    (controls, space, 0x7F-0xA0, 0xAD) are shifted to U+0100 … (``"Ġ"`` → 0x20, ``"Ċ"`` → 0x0A).
    The table is transformers' own (``bytes_to_unicode``), read only when first needed.
    """
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    return {char: byte for byte, char in bytes_to_unicode().items()}


def _decoder_types(tokenizer: Any) -> set[str]:
    """Types of the fast tokenizer's decoder (and its parts), e.g. ``{"ByteLevel"}``."""
    found: set[str] = set()
    if hasattr(tokenizer, "byte_decoder"):  # slow GPT-2 style tokenizer
        found.add("ByteLevel")
    if hasattr(tokenizer, "sp_model"):  # slow SentencePiece tokenizer
        found.update(("Metaspace", "ByteFallback"))
    decoder = getattr(getattr(tokenizer, "backend_tokenizer", None), "decoder", None)
    if decoder is None:
        return found
    try:
        state = json.loads(decoder.__getstate__())
    except (AttributeError, TypeError, ValueError):  # pragma: no cover - unusual decoders
        return found
    stack = [state]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("type"), str):
                found.add(item["type"])
            if item.get("type") == "Replace" and "▁" in json.dumps(item, ensure_ascii=False):
                found.add("Metaspace")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _added_ids(tokenizer: Any) -> set[int]:
    return {int(i) for i in getattr(tokenizer, "added_tokens_decoder", {}) or {}}


def piece_texts(tokenizer: Any, ids: Sequence[int]) -> list[str]:
    """Each token decoded on its own, raw (no escaping), as it reads inside a text.

    Decoding a SentencePiece word-start token alone can drop its space (Llama 2's decoder strips
    a text's first space): ``▁Paris`` gives ``" Paris"`` here all the same. A token that decodes
    to nothing gives its raw piece.

    Args:
        tokenizer: a ``transformers`` tokenizer.
        ids: token ids below ``len(tokenizer)``.

    Returns:
        One string per id (``"�"`` for a lone byte piece; see :func:`piece_bytes`).
    """
    ids = [int(i) for i in ids]
    texts = tokenizer.batch_decode([[i] for i in ids], clean_up_tokenization_spaces=False)
    pieces = tokenizer.convert_ids_to_tokens(ids)
    added = _added_ids(tokenizer)
    out = []
    for token_id, text, piece in zip(ids, texts, pieces, strict=True):
        if isinstance(piece, str) and token_id not in added:
            if piece.startswith("▁") and not text.startswith(" "):
                text = " " + text
            text = text or piece
        out.append(text or f"⟨{token_id}⟩")
    return out


def piece_bytes(
    tokenizer: Any, ids: Sequence[int], texts: Sequence[str] | None = None
) -> list[bytes | None]:
    r"""The bytes of each token whose decoded text lost some (holds ``�``), else None.

    Args:
        tokenizer: a ``transformers`` tokenizer.
        ids: token ids.
        texts: their decoded texts (:func:`piece_texts`), if at hand.

    Returns:
        Per id: for a byte-level BPE token its piece mapped through :func:`byte_table`
        (``æĹ`` → ``b"\xe6\x97"``), for a SentencePiece byte-fallback piece its byte
        (``<0xE6>`` → ``b"\xe6"``); None where the decoded text is whole (no ``�``), for added
        tokens, and for tokenizers of neither kind.
    """
    ids = [int(i) for i in ids]
    texts = piece_texts(tokenizer, ids) if texts is None else texts
    lost = [n for n, text in enumerate(texts) if "\ufffd" in text]
    out: list[bytes | None] = [None] * len(ids)
    if not lost:
        return out
    kinds = _decoder_types(tokenizer)
    byte_level, fallback = "ByteLevel" in kinds, "ByteFallback" in kinds
    added = _added_ids(tokenizer)
    table = byte_table()
    pieces = tokenizer.convert_ids_to_tokens([ids[n] for n in lost])
    for n, piece in zip(lost, pieces, strict=True):
        if not isinstance(piece, str) or ids[n] in added:
            continue
        match = _BYTE_PIECE.match(piece)
        if fallback and match:
            out[n] = bytes([int(match.group(1), 16)])
        elif byte_level and piece and all(ch in table for ch in piece):
            out[n] = bytes(table[ch] for ch in piece)
    return out
