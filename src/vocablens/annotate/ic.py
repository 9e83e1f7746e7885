"""Intrinsic information content of WordNet synsets (Seco, Veale & Hayes 2004).

``IC(s) = 1 - log(1 + hyponyms(s)) / log(N)``: 0 for a root that subsumes all ``N`` synsets of its
part of speech, 1 for a leaf. ``hyponyms(s)`` counts every synset below ``s`` (hyponyms and
instances, transitively, each once). It needs no corpus: it is read from WordNet's own
``data.noun`` / ``data.verb`` files, parsed directly (about 3 s; nltk's synset objects would take
20 s), once per process and database.

The labeller scores a candidate synset by its coverage times its IC, so a label that explains
the same tokens but is more specific wins ("day of the week", IC 0.76, over "time period", 0.42),
and synsets near the top of the hierarchy ("entity" 0, "abstraction" 0.06, "artifact" 0.18) can
never be confident.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from functools import lru_cache
from typing import Any

#: The WordNet data files read, per part of speech.
_FILES = {"n": "data.noun", "v": "data.verb"}


def _hypernym_table(wn: Any, pos: str) -> dict[int, list[int]]:
    """Per synset offset, the offsets of its (instance) hypernyms, parsed from the data file."""
    table: dict[int, list[int]] = {}
    with wn.open(_FILES[pos]) as fp:
        for line in fp:
            if line.startswith("  "):  # the licence header
                continue
            parts = line.split()
            n_words = int(parts[3], 16)
            i = 4 + 2 * n_words
            n_pointers = int(parts[i])
            i += 1
            parents = []
            for _ in range(n_pointers):
                symbol, offset = parts[i], parts[i + 1]
                i += 4
                if symbol in ("@", "@i"):
                    parents.append(int(offset))
            table[int(parts[0])] = parents
    return table


@lru_cache(maxsize=4)
def information_content(wn: Any, pos: str) -> dict[int, float]:
    """Per synset offset of part of speech ``pos`` (``"n"`` or ``"v"``), its intrinsic IC.

    Args:
        wn: the WordNet reader (:func:`~vocablens.annotate.wordnet.open_wordnet`).
        pos: ``"n"`` or ``"v"``.
    """
    table = _hypernym_table(wn, pos)
    up: dict[int, frozenset[int]] = {}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))

    def ancestors(offset: int) -> frozenset[int]:
        hit = up.get(offset)
        if hit is None:
            parents = table.get(offset, [])
            hit = frozenset((offset,)).union(*(ancestors(p) for p in parents))
            up[offset] = hit
        return hit

    try:
        counts: Counter[int] = Counter()
        for offset in table:
            counts.update(ancestors(offset))
    finally:
        sys.setrecursionlimit(limit)
    log_n = math.log(max(len(table), 2))
    return {offset: 1.0 - math.log(counts[offset]) / log_n for offset in table}
