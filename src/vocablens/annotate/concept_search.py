"""Search by meaning: which vectors promote concept X, over annotations and over projections.

A concept is a word or phrase (``"weekday"``, ``"day of the week"``) or a WordNet synset name
(``"number.n.02"``). :func:`expand_concept` turns it into WordNet senses: the synsets that have
the query as a lemma (the first :data:`MAX_SENSES` of each part of speech, WordNet's frequency
order; a synset name: just that synset).

* **Over annotations** (:func:`search_annotations`): a label matches when its synset (the
  ``synset`` column, else the label's own senses) is one of the query's senses (``synonym``),
  lies below one of them in the hypernym hierarchy (``hyponym``: ``"number"`` finds ``"four"``,
  ``"numeral"``) or above one of them within :data:`UP_LEVELS` levels and no higher than depth
  :data:`MIN_DEPTH` (``hypernym``: ``"weekday"`` finds ``"day of the week"``, but ``"entity"``
  is never reached from below); a label spelled like the query matches as ``lemma``, and one
  containing it as ``text`` (form labels such as ``"plural noun"``).
* **Over projections** (:func:`search_projections`): a vector matches when its top tokens fall
  in the concept's lemma closure (the lemmas of the senses and of all their hyponyms), ranked by
  rank-weighted coverage: rank ``r`` (0-based) weighs ``1 / log2(r + 2)`` and the coverage is
  the weight of the matching ranks over the weight of all ranks. A token matches after
  lower-casing, dropping a leading space or word-start marker and surrounding punctuation, or
  through its WordNet base form (``"days"`` -> ``"day"``).

:func:`label_terms` is the same neighbourhood seen from a label: the words a search for that
label may use (its synonyms, its hyponyms' and its near hypernyms' lemmas). The report's search
index stores them per label (:mod:`vocablens.reports.search`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from vocablens.errors import InputError

MAX_SENSES = 3  # senses per part of speech taken for a query word
UP_LEVELS = 3  # hypernym levels a label may sit above the query's senses
MIN_DEPTH = 4  # hypernyms shallower than this (abstraction, entity, measure ...) never match
DOWN_LEVELS = 3  # hyponym levels whose lemmas a label's terms include (the report's index)
MAX_TERMS = 80  # most expansion terms stored per label in the report
_SYNSET_NAME = re.compile(r"^[\w'.-]+\.[nvasr]\.\d\d$")
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")

#: Relations of a matching label to the query, best first (``relation`` column).
RELATIONS = ("lemma", "synonym", "hyponym", "hypernym", "text")
_RELATION_SCORE = {"lemma": 1.0, "synonym": 0.9, "hyponym": 0.7, "hypernym": 0.6, "text": 0.4}

#: Columns of :func:`search_annotations` (after the annotation key columns).
LABEL_MATCH_COLUMNS = ("relation", "via", "match_score")
#: Columns of :func:`search_projections`.
TOKEN_MATCH_COLUMNS = (
    "kind", "readout", "layer", "expert", "index", "sign", "coverage", "hits", "matched",
)  # fmt: skip


def _wordnet(wn: Any) -> Any:
    if wn is not None:
        return wn
    from vocablens.annotate.wordnet import open_wordnet

    return open_wordnet()


@dataclass(frozen=True)
class Concept:
    """A query in WordNet terms.

    Attributes:
        query: the text asked for, lower-cased, spaces for underscores.
        senses: synset names of the query.
        below: synset names under the senses (all hyponym levels), senses excluded; empty
            when expanded with ``closure=False``.
        above: synset names above the senses (at most ``UP_LEVELS`` levels, depth at least
            ``MIN_DEPTH``).
        lemmas: lower-case lemmas (spaces for underscores) of the senses and everything below:
            the words whose tokens count for the concept in projections.
    """

    query: str
    senses: tuple[str, ...]
    below: frozenset[str] = field(repr=False)
    above: frozenset[str] = field(repr=False)
    lemmas: frozenset[str] = field(repr=False)


def _words(name: str) -> str:
    return name.replace("_", " ").lower()


def _up(synset: Any, levels: int) -> set[Any]:
    found: set[Any] = set()
    frontier = [synset]
    for _ in range(levels):
        frontier = [h for s in frontier for h in s.hypernyms() + s.instance_hypernyms()]
        found.update(h for h in frontier if h.min_depth() >= MIN_DEPTH)
    return found


def _down(synset: Any, levels: int | None = None) -> set[Any]:
    found: set[Any] = set()
    frontier = [synset]
    level = 0
    while frontier and (levels is None or level < levels):
        frontier = [h for s in frontier for h in s.hyponyms() + s.instance_hyponyms()]
        frontier = [h for h in frontier if h not in found]
        found.update(frontier)
        level += 1
    return found


def _senses(text: str, wn: Any) -> list[Any]:
    if _SYNSET_NAME.match(text):
        try:
            return [wn.synset(text)]
        except Exception as exc:  # nltk raises WordNetError / ValueError for unknown names
            raise InputError(f"unknown WordNet synset {text!r}") from exc
    key = text.strip().lower().replace(" ", "_")
    chosen: list[Any] = []
    for pos in ("n", "v", "a", "r"):
        chosen += [s for s in wn.synsets(key, pos) if s.pos() in (pos, "s")][:MAX_SENSES]
    return list(dict.fromkeys(chosen))


def expand_concept(concept: str, wn: Any = None, *, closure: bool = True) -> Concept:
    """The WordNet neighbourhood of ``concept`` (see the module docstring).

    Args:
        concept: a word, a phrase, or a synset name such as ``"number.n.02"``.
        wn: an nltk WordNet reader (None: :func:`~vocablens.annotate.wordnet.open_wordnet`).
        closure: compute ``below`` and the lemma closure (what the projection search needs; for
            a very general concept such as ``"entity"`` that is most of WordNet and takes a
            minute). Without it ``below`` is empty and ``lemmas`` holds the senses' lemmas.

    Raises:
        InputError: an empty query or an unknown synset name.
        WordNetNotFoundError: no WordNet database on this machine.
    """
    text = concept.strip() if isinstance(concept, str) else ""
    if not text:
        raise InputError("the concept to search for is empty")
    wn = _wordnet(wn)
    senses = _senses(text, wn)
    below: set[Any] = set()
    above: set[Any] = set()
    for sense in senses:
        if closure:
            below |= _down(sense)
        above |= _up(sense, UP_LEVELS)
    lemmas = {_words(lemma) for s in (*senses, *below) for lemma in s.lemma_names()}
    query = _words(text.split(".")[0]) if _SYNSET_NAME.match(text) else _words(text)
    return Concept(
        query=query,
        senses=tuple(s.name() for s in senses),
        below=frozenset(s.name() for s in below) - {s.name() for s in senses},
        above=frozenset(s.name() for s in above),
        lemmas=frozenset(lemmas | {query}),
    )


def label_terms(label: str, synset: str | None = None, wn: Any = None) -> tuple[str, ...]:
    """Words a search may use to find ``label``: synonyms, hyponyms and near hypernyms.

    Args:
        label: the label text (``"day of the week"``).
        synset: its synset name when known (the annotation's ``synset`` column).
        wn: an nltk WordNet reader (None: open the local database).

    Returns:
        Lower-case terms, the label's own synonyms first, at most :data:`MAX_TERMS`; the label
        itself is not repeated. Empty for a label WordNet does not know (a form label).
    """
    wn = _wordnet(wn)
    if synset:
        try:
            senses = [wn.synset(synset)]
        except Exception:  # an unknown name: fall back to the label's senses
            senses = _senses(label, wn)[:1]
    else:
        senses = _senses(label, wn)[:1]
    terms: list[str] = []
    for group in (
        senses,
        [h for s in senses for h in sorted(_down(s, DOWN_LEVELS), key=lambda x: x.name())],
        [h for s in senses for h in sorted(_up(s, UP_LEVELS), key=lambda x: -x.min_depth())],
    ):
        terms += [_words(lemma) for s in group for lemma in s.lemma_names()]
    own = label.strip().lower()
    return tuple(t for t in dict.fromkeys(terms) if t != own)[:MAX_TERMS]


def _synset_facts(name: str | None, wn: Any) -> tuple[frozenset[str], frozenset[str]]:
    """(lemmas, names of all hypernyms) of a synset; empty for None or an unknown name."""
    if not name:
        return frozenset(), frozenset()
    try:
        synset = wn.synset(name)
    except Exception:  # an unknown synset name
        return frozenset(), frozenset()
    ancestors = synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms())
    return (
        frozenset(_words(lemma) for lemma in synset.lemma_names()),
        frozenset(s.name() for s in ancestors),
    )


def _relation(
    concept: Concept,
    label: str,
    synset: str | None,
    facts: tuple[frozenset[str], frozenset[str]],
) -> tuple[str, str] | None:
    """(relation, via) of one label to the concept, or None (``facts``: :func:`_synset_facts`)."""
    lemmas, ancestors = facts
    text = label.strip().lower()
    if not text:
        return None
    if text == concept.query:
        return "lemma", text
    names = [synset] if synset else []
    for name in names:
        if name in concept.senses or concept.query in lemmas:
            return "synonym", name
        if ancestors & set(concept.senses):  # the label lies below one of the query's senses
            return "hyponym", name
        if name in concept.above:
            return "hypernym", name
    if not synset and text in concept.lemmas:
        return "synonym", text
    if len(concept.query) >= 3 and concept.query in text:
        return "text", text
    return None


def search_annotations(concept: str | Concept, annotations: Any, wn: Any = None) -> pd.DataFrame:
    """Annotated vectors whose label names ``concept`` or a neighbour of it in WordNet.

    Args:
        concept: a query (see :func:`expand_concept`) or an expanded :class:`Concept`.
        annotations: an :class:`~vocablens.annotate.result.Annotations` or its DataFrame
            (columns ``label``, and ``synset`` where known, plus the vector's key columns).
        wn: an nltk WordNet reader (None: open the local database).

    Returns:
        The matching annotation rows with :data:`LABEL_MATCH_COLUMNS` added: ``relation`` (one
        of :data:`RELATIONS`: how the label relates to the query), ``via`` (the synset or text
        that matched), ``match_score`` (1 lemma, 0.9 synonym, 0.7 hyponym, 0.6 hypernym, 0.4
        text); best first (then confident, then coverage).
    """
    concept = (
        concept if isinstance(concept, Concept) else expand_concept(concept, wn, closure=False)
    )
    frame = getattr(annotations, "frame", annotations)
    if not isinstance(frame, pd.DataFrame) or "label" not in frame.columns:
        raise InputError("annotations must be an Annotations or a DataFrame with a label column")
    synsets = frame["synset"] if "synset" in frame.columns else pd.Series(None, index=frame.index)
    pairs = frame[["label"]].assign(synset=synsets.where(synsets.notna(), None))
    unique = pairs.drop_duplicates()
    wn = _wordnet(wn)
    found = {
        (label, syn): _relation(concept, str(label or ""), syn, _synset_facts(syn, wn))
        for label, syn in zip(unique["label"], unique["synset"], strict=True)
    }
    hits = [found[(label, syn)] for label, syn in zip(pairs["label"], pairs["synset"], strict=True)]
    keep = np.array([hit is not None for hit in hits], dtype=bool)
    out = frame[keep].copy()
    matched = [hit for hit in hits if hit is not None]
    out["relation"] = [relation for relation, _ in matched]
    out["via"] = [via for _, via in matched]
    out["match_score"] = out["relation"].map(_RELATION_SCORE).astype("float32")
    order = ["match_score"] + [c for c in ("confident", "coverage") if c in out.columns]
    return out.sort_values(order, ascending=False, kind="stable").reset_index(drop=True)


def token_word(token: str) -> str:
    """A token as a lower-case word: leading space / word-start marker and edge punctuation off."""
    text = token.replace("\u2423", " ").replace("\u0120", " ").replace("\u2581", " ")
    return _EDGE.sub("", text.strip().lower())


@lru_cache(maxsize=1 << 16)
def _bases(word: str, wn: Any) -> tuple[str, ...]:
    if not word.isalpha():
        return ()
    return tuple({b for pos in ("n", "v", "a") if (b := wn.morphy(word, pos)) and b != word})


def search_projections(
    concept: str | Concept,
    projections: pd.DataFrame,
    *,
    sign: int | None = 1,
    kinds: tuple[str, ...] | None = ("values",),
    min_coverage: float = 0.1,
    wn: Any = None,
) -> pd.DataFrame:
    """Projected vectors whose top tokens fall in the concept's lemma closure.

    Args:
        concept: a query (see :func:`expand_concept`) or an expanded :class:`Concept`.
        projections: the long format of :func:`~vocablens.project.projector.project` /
            :func:`~vocablens.project.files.read_projections` (``token`` and ``rank`` columns).
        sign: ``1`` what vectors promote, ``-1`` what they suppress, None both.
        kinds: vector kinds searched (None: every kind of the table).
        min_coverage: smallest rank-weighted coverage reported.
        wn: an nltk WordNet reader (None: open the local database).

    Returns:
        One row per matching (kind, readout, layer, expert, index, sign), columns
        :data:`TOKEN_MATCH_COLUMNS`: ``coverage`` (rank-weighted share of the list in the
        closure, 0..1), ``hits`` (how many tokens), ``matched`` (those tokens, by rank); best
        coverage first.
    """
    concept = concept if isinstance(concept, Concept) else expand_concept(concept, wn)
    wn = _wordnet(wn)
    frame = projections
    if "readout" not in frame.columns:
        frame = frame.assign(readout="raw")
    if sign is not None:
        frame = frame[frame["sign"] == sign]
    if kinds is not None:
        frame = frame[frame["kind"].isin(kinds)]
    if frame.empty:
        return pd.DataFrame({name: [] for name in TOKEN_MATCH_COLUMNS})
    codes, unique = pd.factorize(frame["token"])
    hit_of = np.array(
        [
            (w := token_word(str(t))) in concept.lemmas
            or any(b in concept.lemmas for b in _bases(w, wn))
            for t in unique
        ],
        dtype=bool,
    )  # (n_unique_tokens,)
    weight = 1.0 / np.log2(frame["rank"].to_numpy().astype(np.float64) + 2.0)  # (rows,)
    hit = hit_of[codes]  # (rows,)
    keys = ["kind", "readout", "layer", "expert", "index", "sign"]
    work = frame[keys].assign(_w=weight, _hit=weight * hit, _n=hit.astype(np.int32))
    grouped = work.groupby(keys, sort=False)[["_w", "_hit", "_n"]].sum()
    grouped["coverage"] = grouped["_hit"] / grouped["_w"]
    grouped = grouped[(grouped["_n"] > 0) & (grouped["coverage"] >= min_coverage)]
    tokens = frame.loc[hit, [*keys, "rank", "token"]].sort_values([*keys, "rank"])
    matched = tokens.groupby(keys, sort=False)["token"].agg(list)
    out = grouped.join(matched.rename("matched")).reset_index()
    out = out.rename(columns={"_n": "hits"})[list(TOKEN_MATCH_COLUMNS)]
    out["coverage"] = out["coverage"].astype("float32")
    return out.sort_values(["coverage", "hits"], ascending=False, kind="stable").reset_index(
        drop=True
    )


@dataclass(frozen=True)
class ConceptMatches:
    """The result of :func:`search_concept`.

    Attributes:
        concept: the expanded query.
        labels: annotation rows whose label matches (:func:`search_annotations`), or an empty
            frame when no annotations were given.
        tokens: projected vectors whose top tokens cover the concept
            (:func:`search_projections`), or an empty frame when no projections were given.
    """

    concept: Concept
    labels: pd.DataFrame
    tokens: pd.DataFrame


def search_concept(
    concept: str,
    *,
    annotations: Any = None,
    projections: pd.DataFrame | None = None,
    sign: int | None = 1,
    min_coverage: float = 0.1,
    wn: Any = None,
) -> ConceptMatches:
    """Which vectors promote concept X: by their labels and by their top tokens.

    Args:
        concept: a word, a phrase or a synset name (see :func:`expand_concept`).
        annotations: an :class:`~vocablens.annotate.result.Annotations` (or its DataFrame).
        projections: a long projections table (values searched; see :func:`search_projections`).
        sign: ``1`` promoted (default), ``-1`` suppressed, None both (both searches).
        min_coverage: smallest rank-weighted coverage of a token match.
        wn: an nltk WordNet reader (None: open the local database).

    Raises:
        InputError: neither annotations nor projections, or an empty/unknown concept.
    """
    if annotations is None and projections is None:
        raise InputError("search_concept needs annotations, projections or both")
    expanded = expand_concept(concept, wn, closure=projections is not None)
    labels = pd.DataFrame({name: [] for name in LABEL_MATCH_COLUMNS})
    if annotations is not None:
        labels = search_annotations(expanded, annotations, wn)
        if sign is not None and "sign" in labels.columns:
            labels = labels[labels["sign"] == sign].reset_index(drop=True)
    tokens = pd.DataFrame({name: [] for name in TOKEN_MATCH_COLUMNS})
    if projections is not None:
        tokens = search_projections(
            expanded, projections, sign=sign, min_coverage=min_coverage, wn=wn
        )
    return ConceptMatches(concept=expanded, labels=labels, tokens=tokens)
