"""How candidates become concepts: the strength test, head words, and the polysemantic pair.

Functions of a fitted :class:`~vocablens.annotate.labeler.ConceptLabeler` (``lab``), whose
parameters they read; see its module docstring for the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from vocablens.annotate.analysis import SUPERSENSE, TokenAnalysis
from vocablens.annotate.candidates import concept_of
from vocablens.annotate.groups import Group
from vocablens.annotate.label_types import (
    CLOSED,
    CODE,
    HEAD,
    LEXICAL,
    MEANING,
    NUMBER,
    Candidate,
    Concept,
)

if TYPE_CHECKING:
    from vocablens.annotate.labeler import ConceptLabeler


def find_pair(
    lab: ConceptLabeler,
    ranked: Sequence[Candidate],
    first: Candidate | None,
    analyses: Sequence[TokenAnalysis],
    groups: Sequence[Group],
    total: float,
    tokens: Sequence[str],
) -> tuple[Candidate, Candidate] | None:
    """Two unrelated groups that each reach ``group_coverage`` (``first`` leads if given).

    The second may be a head word (:func:`head_candidate`) over the groups the lead leaves.
    """
    lead = first or next((c for c in ranked if strong(lab, c, lab.group_coverage)), None)
    if lead is None or not strong(lab, lead, lab.group_coverage):
        return None
    used = set(lead.explained_idx)
    rest = [c for c in ranked if c is not lead and not used & set(c.explained_idx)]
    second = next((c for c in rest if strong(lab, c, lab.group_coverage)), None)
    if second is None:
        second = head_candidate(lab, groups, total, tokens, lab.group_coverage, frozenset(used))
    if second is None:
        return None
    if is_closed(lead.name) and is_closed(second.name):
        return None
    if lab.closed_pair_coverage is not None and any(
        (c.name == NUMBER or is_closed(c.name)) and c.coverage < lab.closed_pair_coverage
        for c in (lead, second)
    ):
        return None  # a few function words or numbers beside a topic are not a second meaning
    if lead.name.startswith((CLOSED, MEANING)) and second.n_words == 1:
        return None  # a word's variants beside function words: the form of a phrase
    if lab.related(lead.name, second.name) or families_related(lab, lead, second):
        return None
    if reaches(lead, second.name, analyses) or reaches(second, lead.name, analyses):
        return None
    return lead, second


def families_related(lab: ConceptLabeler, a: Candidate, b: Candidate) -> bool:
    """Whether two word families are one concept: WordNet relates their words (``race``, ``racial``)."""
    if not (a.name.startswith(LEXICAL) and b.name.startswith(LEXICAL)):
        return False
    base = lab.relations_.base
    return lab.relations_.related(base(a.name[len(LEXICAL) :]), base(b.name[len(LEXICAL) :]))


def reaches(c: Candidate, name: str, analyses: Sequence[TokenAnalysis]) -> bool:
    """Whether a word family's tokens have a sense under ``name`` (``ages``: time period)."""
    if not c.name.startswith(LEXICAL):
        return False
    return any(name in support for i in c.explained_idx for support in analyses[i].support.values())


def is_closed(name: str) -> bool:
    """A closed-class group: two of them split a list by form (function words), not meaning."""
    return name.startswith(CLOSED)


def strong(lab: ConceptLabeler, c: Candidate, coverage: float) -> bool:
    """A candidate that is a concept: enough coverage and enough distinct words."""
    if c.coverage < coverage:
        return False
    if c.name.startswith(LEXICAL):
        return c.n_tokens >= lab.min_family
    if c.n_words >= lab.min_words:
        return True
    return lab.min_tokens is not None and c.n_words >= 2 and c.n_tokens >= lab.min_tokens


def head_candidate(
    lab: ConceptLabeler,
    groups: Sequence[Group],
    total: float,
    tokens: Sequence[str],
    min_coverage: float,
    skip: frozenset[int] = frozenset(),
) -> Candidate | None:
    """The best strong head candidate (:mod:`~vocablens.annotate.relations`), or None.

    Groups with a token in ``skip`` take no part (another concept explains them).
    """
    if lab.head_tokens is None:
        return None
    words = [lab.relations_.base(g.analysis.token.lower) if g.analysis.word
             and not (g.analysis.function or g.analysis.number or skip & set(g.members))
             else None for g in groups]  # fmt: skip
    best: Candidate | None = None
    for head in lab.relations_.heads(words):
        members = sorted(i for k in head.groups for i in groups[k].members)
        coverage = sum(groups[k].weight for k in head.groups) / total
        if (coverage < min_coverage or len(members) < lab.head_tokens
                or len(groups[head.groups[0]].members) < lab.min_head_variants):  # fmt: skip
            continue
        if lab.head_similarity is not None and not _close_to_head(lab, head.word, head.related):
            continue
        if best is None or coverage > best.coverage:
            idx = tuple(members)
            concept = Concept(head.word, None, "related words", coverage, len(head.groups),
                              tuple(tokens[i] for i in idx), coverage)  # fmt: skip
            best = Candidate(HEAD + head.word, coverage, len(head.groups), len(idx), idx,
                              coverage, concept)  # fmt: skip
    return best


def _close_to_head(lab: ConceptLabeler, word: str, near: Sequence[str]) -> bool:
    """Whether a head's related words are on average close to it in the word vectors."""
    vectors = lab.word_vectors_.matrix([word, *near])  # (1 + n, DIM)
    return float((vectors[1:] @ vectors[0]).mean()) >= lab.head_similarity  # type: ignore[operator]


def python_candidate(
    lab: ConceptLabeler, tokens: Sequence[str], analyses: Sequence[TokenAnalysis],
    weights: Sequence[float],
) -> Candidate | None:  # fmt: skip
    """A "programming code" candidate from a list's Python names, or None.

    It needs the fewer of ``min_python_names`` and ``min_python_group_names``;
    :func:`with_code` decides what it may be.

    Read on the raw list, where code neurons' names (``␣hashlib``, ``␣shutil``) fill the top.
    """
    if lab.min_python_names is None:
        return None
    idx = tuple(i for i, a in enumerate(analyses) if a.python)
    fewest = min(lab.min_python_names, lab.min_python_group_names or lab.min_python_names)
    if len(idx) < fewest:
        return None
    coverage = sum(weights[i] for i in idx) / sum(weights)
    concept = concept_of(lab, CODE, coverage, len(idx), idx, tokens, coverage)
    return Candidate(CODE, coverage, len(idx), len(idx), idx, coverage, concept)


def with_code(
    lab: ConceptLabeler, first: Candidate | None,
    pair: tuple[Candidate, Candidate] | None, code: Candidate | None,
) -> tuple[Candidate | None, tuple[Candidate, Candidate] | None]:  # fmt: skip
    """The concept and the pair once the raw list's Python names count (:func:`python_candidate`).

    Code is the concept of a list without one (``min_python_names`` names), and the second
    meaning of a list with one concept (a closed class only when it covers
    ``closed_pair_coverage``; ``min_python_group_names`` names are enough).
    """
    if code is None or (first is not None and first.name == CODE):
        return first, pair
    if first is None:
        return (code if code.n_words >= (lab.min_python_names or 0) else None), None
    if code.n_words < (lab.min_python_group_names or lab.min_python_names or 0):
        return first, pair
    if pair is None and (
        not is_closed(first.name) or first.coverage >= (lab.closed_pair_coverage or 0.0)
    ):
        return first, (first, code)
    return first, pair


def related(lab: ConceptLabeler, a: str, b: str) -> bool:
    """Whether two candidates are one concept (one above the other, or a specific parent)."""
    if a.startswith(SUPERSENSE) or b.startswith(SUPERSENSE):
        return _lexname(lab, a) == _lexname(lab, b)
    if (
        "." not in a
        or "." not in b
        or a.startswith((CLOSED, LEXICAL))
        or b.startswith((CLOSED, LEXICAL))
    ):
        return a == b
    lex = lab.lexicon_
    up_a = lex.up(lex.wn.synset(a))
    up_b = lex.up(lex.wn.synset(b))
    if a in up_b or b in up_a:
        return True
    return any(lab.ic(s) >= lab.related_ic for s in up_a & up_b)


def _lexname(lab: ConceptLabeler, name: str) -> str:
    """The supersense of a candidate (its own name's for a supersense; ``""`` for others)."""
    if name.startswith(SUPERSENSE):
        return name[len(SUPERSENSE) :]
    if "." not in name or name.startswith((CLOSED, LEXICAL)):
        return ""
    return lab.lexicon_.synset_info(name).lexname
