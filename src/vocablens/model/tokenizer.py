"""What tokenizers mark, in one place: word-start markers of the pieces, and whole-word tokens.

Byte-level BPE (GPT-2, Llama 3, SmolLM2) writes a leading space as ``Ġ`` (and a newline as ``Ċ``,
a tab as ``ĉ``); SentencePiece (Llama 2, Gemma) writes a leading space as ``▁``.
"""

from __future__ import annotations

from typing import Any

from vocablens.errors import InputError
from vocablens.tokens import token_strings

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
    texts = token_strings(tokenizer, ids, readable=False)
    words = []
    for token_id, piece, text in zip(ids, raw, texts, strict=True):
        starts_word = text.startswith(" ") or (
            isinstance(piece, str) and piece.startswith(WORD_START_MARKERS)
        )
        letters = text.strip()
        if starts_word and len(letters) >= min_chars and letters.isalpha():
            words.append(token_id)
    return words
