"""Token sets for projections (all, whole words, explicit ids) and cached readable token strings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from vocablens.errors import InputError
from vocablens.model.tokenizer import whole_word_tokens
from vocablens.tokens import token_strings


def resolve_tokens(spec: Any, tokenizer: Any, vocab_size: int, what: str) -> torch.Tensor:
    """A token set as a sorted ``(n,)`` int64 tensor of unique ids.

    Args:
        spec: ``None`` or ``"all"`` (every row of the unembedding), ``"words"``
            (:func:`whole_word_tokens`), or a sequence/tensor of token ids.
        tokenizer: the model's tokenizer (for ``"words"``).
        vocab_size: number of rows of the unembedding.
        what: the argument's name, for error messages.

    Raises:
        InputError: unknown name, empty set, or ids out of range.
    """
    if spec is None or (isinstance(spec, str) and spec == "all"):
        return torch.arange(vocab_size)
    if isinstance(spec, str):
        if spec != "words":
            raise InputError(f"unknown {what} set {spec!r}; use 'all', 'words' or a list of ids")
        ids = torch.tensor(whole_word_tokens(tokenizer, vocab_size), dtype=torch.int64)
    else:
        ids = torch.as_tensor(np.asarray(spec)).reshape(-1)
        if ids.numel() and (ids.dtype.is_floating_point or ids.dtype == torch.bool):
            raise InputError(f"{what} must be integer token ids")
        ids = ids.long().unique()  # sorted
    if ids.numel() == 0:
        raise InputError(f"the {what} set is empty")
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise InputError(f"{what} ids must lie in 0..{vocab_size - 1}")
    return ids


class TokenNames:
    """Readable token strings (:func:`vocablens.tokens.token_strings`), decoded once per id.

    Id -1 (no token) maps to ``""``; ids the tokenizer does not know map to ``⟨id⟩``.
    """

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer
        self._known: dict[int, str] = {-1: ""}
        self._size = None if tokenizer is None else len(tokenizer)

    def _decode(self, ids: Sequence[int]) -> list[str]:
        inside = [i for i in ids if self._size is None or i < self._size]
        decoded = dict(zip(inside, token_strings(self.tokenizer, inside), strict=True))
        return [decoded.get(i, f"⟨{i}⟩") for i in ids]

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """Strings of ``ids`` (any shape) as an object array of the same shape."""
        unique, inverse = np.unique(ids, return_inverse=True)
        missing = [int(i) for i in unique if int(i) not in self._known]
        if missing:
            self._known.update(zip(missing, self._decode(missing), strict=True))
        names = np.array([self._known[int(i)] for i in unique], dtype=object)  # (n_unique,)
        return names[inverse].reshape(np.shape(ids))
