"""Variant groups of a token list: which tokens are one word, and what the list's words are.

:func:`families` merges variants (``␣Review``, ``review``, ``␣reviewing``: the same key, or a
piece whose key extends another's: ``particip``, ``participate``) into groups weighing as the sum
of their tokens' rank weights; :func:`list_pos` and :func:`support_of` read the part of speech the
list is in and each group's WordNet support in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vocablens.annotate.analysis import TokenAnalysis


@dataclass
class Group:
    """Variant tokens of one word (a family): their summed weight and a word's analysis.

    Attributes:
        weight: the summed rank weights of its tokens.
        analysis: a word member's analysis (the first token's when none is a word).
        members: the indices of its tokens in the list.
    """

    weight: float
    analysis: TokenAnalysis
    members: list[int]


def families(analyses: Sequence[TokenAnalysis], weights: Sequence[float]) -> list[Group]:
    """Merge variants: same key, or a key that extends another (``particip``, ``participate``).

    Args:
        analyses: the tokens' analyses, best first.
        weights: their rank weights.

    Returns:
        The groups, in the order of their first tokens.
    """
    by_key: dict[str, Group] = {}
    families: list[Group] = []
    for i, (a, w) in enumerate(zip(analyses, weights, strict=True)):
        key = a.key if (a.word or a.number or (a.token.is_alpha and len(a.key) >= 4)) else ""
        hit = by_key.get(key) if key else None
        if hit is None and key and len(key) >= 5:
            hit = next((g for k, g in by_key.items() if len(k) >= 4 and
                        (key.startswith(k) or k.startswith(key))), None)  # fmt: skip
        if hit is not None:
            hit.members.append(i)
            hit.weight += w
            if not hit.analysis.word and a.word:
                hit.analysis = a
            if key:
                by_key.setdefault(key, hit)
            continue
        group = Group(w, a, [i])
        if key:
            by_key[key] = group
        families.append(group)
    return families


def list_pos(groups: Sequence[Group]) -> str:
    """The part of speech (``n``, ``v``, ``a``) most of the list's words are used as.

    Weighted by the groups' weights and each word's tagged uses; nouns win ties.
    """
    mass = {"n": 0.0, "v": 0.0, "a": 0.0}
    for g in groups:
        for p, share in g.analysis.pos_share.items():
            mass[p] += g.weight * share
    if mass["n"] >= mass["v"] and mass["n"] >= mass["a"]:
        return "n"
    return "v" if mass["v"] >= mass["a"] else "a"


def support_of(group: Group, pos: str) -> dict[str, float]:
    """The synsets a group supports, in the list's part of speech where it has one."""
    support = group.analysis.support
    if pos == "a":  # an adjective list: adjective clusters, and nouns' own senses
        merged = dict(support.get("n") or support.get("v") or {})
        for name, w in (support.get("a") or {}).items():
            merged[name] = max(w, merged.get(name, 0.0))
        return merged
    return support.get(pos) or support.get("v" if pos == "n" else "n") or support.get("a") or {}
