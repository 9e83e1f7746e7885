"""Theme candidates: words of a list that word vectors put close together, WordNet or not.

Functions of a fitted :class:`~vocablens.annotate.labeler.ConceptLabeler` (``lab``), whose
``theme_*`` parameters they read. A list's **theme words** are its lexicon words (variant
groups, by their key: ``sellers`` as ``seller``) that are not function words; their
:mod:`~vocablens.annotate.word_vectors` cosines ``S`` are compared:

* a **theme** is a word with the words at ``S >= theme_similarity`` to it, at least three
  together covering ``theme_coverage``, or two words at ``S >= theme_pair_similarity`` covering
  ``theme_pair_coverage``; the best is the one covering most. It is named by its two most
  central words (``"buyer, seller"``), or "number" when half its words are numbers;
* a **second theme** (a polysemantic list's other group) is found the same way among the words
  the first concept leaves, three words at ``theme_group_similarity`` covering
  ``theme_group_coverage``, never mostly numbers, and apart from the first: the mean cosine
  between the two groups' words stays below ``theme_apart``, and no two of them are as close
  as a two-word theme's (``theme_pair_similarity``). Beside "programming code", whose Python
  names are read on the raw list and are no theme words, any such theme is apart;
* **two themes** (:func:`two_themes`), when the list has no concept at all: the best theme at a
  second theme's strength and a second theme apart from it, together covering
  ``two_theme_coverage`` (``path, pathway`` beside ``search, find``), make a polysemantic list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from vocablens.annotate.analysis import TokenAnalysis
from vocablens.annotate.candidates import concept_of
from vocablens.annotate.groups import Group
from vocablens.annotate.label_types import CODE, NUMBER, THEME, Candidate

if TYPE_CHECKING:
    from vocablens.annotate.labeler import ConceptLabeler

#: The label names a theme by this many of its most central words.
NAME_WORDS = 2


@dataclass(frozen=True)
class Theme:
    """A set of theme words of one list.

    Attributes:
        groups: indices of its variant groups in the list's groups, most central first.
        coverage: their rank-weighted share of the list.
    """

    groups: tuple[int, ...]
    coverage: float


def is_theme_word(a: TokenAnalysis) -> bool:
    """Whether a token (a group's analysis) takes part in themes: a lexicon word, no function word."""
    return a.word and not a.function


def theme_words(groups: Sequence[Group]) -> list[int]:
    """The indices of the groups that take part in themes (:func:`is_theme_word`)."""
    return [k for k, g in enumerate(groups) if is_theme_word(g.analysis)]


def best_theme(
    lab: ConceptLabeler, groups: Sequence[Group], total: float, words: Sequence[int],
    similarity: float, coverage: float, pair_similarity: float | None,
    pair_coverage: float | None,
) -> Theme | None:  # fmt: skip
    """The theme covering most among ``words`` (see the module docstring), or None."""
    if len(words) < 2:
        return None
    vectors = lab.word_vectors_.matrix([groups[k].analysis.key for k in words])  # (n, DIM)
    sims = vectors @ vectors.T  # (n, n)
    weight = np.array([groups[k].weight for k in words])  # (n,)
    near = sims >= similarity  # (n, n): each word's theme, itself included
    np.fill_diagonal(near, True)
    mass = near @ weight  # (n,)
    ok = (near.sum(axis=1) >= 3) & (mass / total >= coverage)
    best, members = 0.0, None
    if ok.any():
        i = int(np.argmax(np.where(ok, mass, -np.inf)))  # the first of the heaviest
        best, members = float(mass[i]), np.flatnonzero(near[i]).tolist()
    if pair_similarity is not None and pair_coverage is not None:
        pairs = weight[:, None] + weight[None, :]  # (n, n)
        ok2 = (sims >= pair_similarity) & _upper(len(words)) & (pairs / total >= pair_coverage)
        if ok2.any():
            i, j = divmod(int(np.argmax(np.where(ok2, pairs, -np.inf))), len(words))
            if members is None or pairs[i, j] > best:
                best, members = float(pairs[i, j]), [i, j]
    if members is None:
        return None
    central = sorted(members, key=lambda j: -float(sims[j, members] @ weight[members]))
    return Theme(tuple(words[j] for j in central), best / total)


@lru_cache(maxsize=64)
def _upper(n: int) -> np.ndarray:
    """``(n, n)`` bool, true above the diagonal (each pair once); read-only, it is shared."""
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    upper.flags.writeable = False
    return upper


def theme_candidate(
    lab: ConceptLabeler, groups: Sequence[Group], total: float, tokens: Sequence[str],
) -> Candidate | None:  # fmt: skip
    """The list's theme as a concept, when no synset, class or head word is one; or None."""
    if lab.theme_similarity is None:
        return None
    theme = best_theme(lab, groups, total, theme_words(groups), lab.theme_similarity,
                       lab.theme_coverage, lab.theme_pair_similarity,
                       lab.theme_pair_coverage)  # fmt: skip
    return None if theme is None else _candidate(lab, theme, groups, tokens, numbers_ok=True)


def second_theme(
    lab: ConceptLabeler, first: Candidate, groups: Sequence[Group], total: float,
    tokens: Sequence[str],
) -> Candidate | None:  # fmt: skip
    """A theme apart from ``first`` among the words it leaves (a polysemantic list's other group)."""
    if lab.theme_similarity is None or lab.theme_group_similarity is None:
        return None
    used = frozenset(lab.analyse(t).key for t in first.concept.explained)
    words = theme_words(groups)
    rest = [k for k in words if groups[k].analysis.key not in used]
    theme = best_theme(lab, groups, total, rest, lab.theme_group_similarity,
                       lab.theme_group_coverage, None, None)  # fmt: skip
    if theme is None or _mostly_numbers(theme, groups):
        return None
    lead = [k for k in words if groups[k].analysis.key in used]
    if not lead and first.name == CODE:
        return _candidate(lab, theme, groups, tokens, numbers_ok=False)  # code's names: on raw
    if not lead:
        return None  # the first concept has no theme words (function words)
    a = lab.word_vectors_.matrix([groups[k].analysis.key for k in lead])  # (n_a, DIM)
    b = lab.word_vectors_.matrix([groups[k].analysis.key for k in theme.groups])  # (n_b, DIM)
    across = a @ b.T  # (n_a, n_b)
    close = lab.theme_pair_similarity if lab.theme_pair_similarity is not None else 1.0
    if float(across.mean()) >= lab.theme_apart or float(across.max()) >= close:
        return None  # close to the first concept: one meaning
    return _candidate(lab, theme, groups, tokens, numbers_ok=False)


def theme_pair(
    lab: ConceptLabeler, first: Candidate, groups: Sequence[Group], total: float,
    tokens: Sequence[str],
) -> tuple[Candidate, Candidate] | None:  # fmt: skip
    """``(first, its second theme)`` (:func:`second_theme`), or None."""
    second = second_theme(lab, first, groups, total, tokens)
    return (first, second) if second is not None else None


def two_themes(
    lab: ConceptLabeler, groups: Sequence[Group], total: float, tokens: Sequence[str],
) -> tuple[Candidate, Candidate] | None:  # fmt: skip
    """Two themes apart, each with a second theme's strength, together ``two_theme_coverage``."""
    if lab.theme_group_similarity is None or lab.two_theme_coverage is None:
        return None
    theme = best_theme(lab, groups, total, theme_words(groups), lab.theme_group_similarity,
                       lab.theme_group_coverage, None, None)  # fmt: skip
    if theme is None or _mostly_numbers(theme, groups):
        return None
    pair = theme_pair(lab, _candidate(lab, theme, groups, tokens, numbers_ok=False), groups,
                      total, tokens)  # fmt: skip
    if pair is None or pair[0].coverage + pair[1].coverage < lab.two_theme_coverage:
        return None
    return pair


def _mostly_numbers(theme: Theme, groups: Sequence[Group]) -> bool:
    return 2 * sum(groups[k].analysis.number for k in theme.groups) >= len(theme.groups)


def _candidate(
    lab: ConceptLabeler, theme: Theme, groups: Sequence[Group], tokens: Sequence[str],
    numbers_ok: bool,
) -> Candidate:  # fmt: skip
    idx = tuple(sorted(i for k in theme.groups for i in groups[k].members))
    n = len(theme.groups)
    if numbers_ok and _mostly_numbers(theme, groups):
        concept = concept_of(lab, NUMBER, theme.coverage, n, idx, tokens, theme.coverage)
        return Candidate(NUMBER, theme.coverage, n, len(idx), idx, theme.coverage, concept)
    name = THEME + ", ".join(groups[k].analysis.key for k in theme.groups[:NAME_WORDS])
    concept = concept_of(lab, name, theme.coverage, n, idx, tokens, theme.coverage)
    return Candidate(name, theme.coverage, n, len(idx), idx, theme.coverage, concept)
