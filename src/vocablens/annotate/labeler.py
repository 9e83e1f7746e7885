"""ConceptLabeler: name the concept behind a list of top tokens, with its coverage.

How a label is chosen (:meth:`ConceptLabeler.label`):

1. Every token is normalized (:func:`~vocablens.annotate.normalize.normalize_token`); Latin words
   and word pieces are looked up in WordNet: their first ``max_noun_senses`` noun and
   ``max_verb_senses`` verb senses and all their (instance) hypernyms are the *WordNet candidates*
   the token supports. Every token also gets its morphological / token-kind classes
   (:mod:`~vocablens.annotate.morphology`).
2. A candidate's **coverage** is the fraction of all the top tokens it explains (noise included,
   casing variants counted separately).
3. Its **score** is ``coverage * specificity``. For a WordNet synset
   ``specificity = 1 - exp(-depth / depth_scale)`` with ``depth`` its ``min_depth`` below the
   root (plus ``verb_depth_offset`` for verbs, whose hierarchies are shallow); synsets in
   :data:`GENERAL_SYNSETS` (``entity``, ``object``, ``whole``, ``abstraction`` ...) are multiplied by
   ``general_penalty``. So the deepest synset wins unless a shallower one explains clearly more
   tokens ("day of the week" 0.8 beats "weekday" 0.57). For other classes the specificity is the
   class weight (:mod:`~vocablens.annotate.morphology`).
4. The best-scoring candidate (ties: more tokens, then deeper) is the label. It is **confident**
   when its coverage is at least ``min_coverage`` (default 0.5: it explains most top tokens) and it
   is not a general synset.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain

import pandas as pd

from vocablens.annotate.morphology import class_info, token_classes
from vocablens.annotate.normalize import NormalToken, normalize_token
from vocablens.annotate.result import NO_LABEL_KIND, WORDNET
from vocablens.annotate.wordnet import Lexicon, WordSenses

#: Synsets too general to be a concept: their score is multiplied by ``general_penalty`` and a
#: label on them is never confident.
_GENERAL_SYNSETS_TEXT = """
    entity.n.01 physical_entity.n.01 abstraction.n.06 object.n.01 whole.n.02 thing.n.12
    matter.n.03 causal_agent.n.01 living_thing.n.01 organism.n.01 artifact.n.01
    instrumentality.n.03 psychological_feature.n.01 attribute.n.02 group.n.01 relation.n.01
    measure.n.02 communication.n.02 act.n.02 event.n.01 state.n.02 location.n.01 part.n.01
    part.n.02 part.n.03 region.n.03 unit.n.03 thing.n.08 content.n.05 cognition.n.01
    quality.n.01 property.n.02 activity.n.01 substance.n.01 substance.n.07 material.n.01
    device.n.01 structure.n.01 container.n.01 person.n.02 people.n.01 social_group.n.01
    collection.n.01 change.v.01 change.v.02 move.v.02 act.v.01 be.v.01 have.v.01 make.v.03
    get.v.01 cause.v.01 organization.n.01 set.n.02 idea.n.01 concept.n.01 information.n.01
    message.n.02 happening.n.01 process.n.06 phenomenon.n.01 natural_object.n.01 point.n.02
    area.n.01 geographical_area.n.01 district.n.01 administrative_district.n.01 commodity.n.01
    basic_cognitive_process.n.01 higher_cognitive_process.n.01 action.n.01 deed.n.01
    written_communication.n.01 writing.n.02 adult.n.01 worker.n.01 organism.n.01 solid.n.01
    fluid.n.01 body.n.01 equipment.n.01 system.n.01
"""
GENERAL_SYNSETS = frozenset(_GENERAL_SYNSETS_TEXT.split())


@dataclass(frozen=True)
class Label:
    """The concept behind a list of tokens.

    Attributes:
        label: readable name (``"day of the week"``, ``"past-tense verb"``); ``""`` if none fits.
        kind: one of :data:`~vocablens.annotate.result.LABEL_KINDS` (``"wordnet"``,
            ``"morphological"``, ``"token-kind"``), or ``"none"`` when nothing fits.
        supersense: the WordNet lexicographer file of the synset (``"noun.time"``); None for
            other kinds.
        synset: the WordNet synset name (``"day_of_the_week.n.01"``) or None.
        coverage: fraction of the tokens the label explains (0..1).
        explained: the tokens it explains, in input order.
        score: ``coverage * specificity`` (see the module docstring).
        confident: coverage >= the labeller's ``min_coverage`` and not a general synset.
        n_tokens: how many tokens were labelled.
    """

    label: str
    kind: str
    supersense: str | None
    synset: str | None
    coverage: float
    explained: tuple[str, ...]
    score: float
    confident: bool
    n_tokens: int
    alternatives: tuple[tuple[str, float], ...] = field(default=(), compare=False)

    def as_dict(self) -> dict[str, object]:
        """The fields as a flat dict (``explained`` '|'-joined, no alternatives)."""
        return {
            "label": self.label,
            "label_kind": self.kind,
            "supersense": self.supersense,
            "synset": self.synset,
            "coverage": self.coverage,
            "explained_tokens": "|".join(self.explained),
            "label_score": self.score,
            "confident": self.confident,
        }


NO_LABEL = Label("", NO_LABEL_KIND, None, None, 0.0, (), 0.0, False, 0)


@dataclass(frozen=True)
class TokenAnalysis:
    """One token as the labeller sees it: normal form, WordNet senses, other classes."""

    token: NormalToken
    senses: WordSenses | None
    classes: frozenset[str]

    @property
    def ancestors(self) -> frozenset[str]:
        """The WordNet synsets the token supports (its senses and all their hypernyms)."""
        return self.senses.ancestors if self.senses is not None else frozenset()


class ConceptLabeler:
    """Labels lists of top tokens with a WordNet concept or a morphological / token class.

    Args:
        min_coverage: coverage a label needs to be confident (default 0.5).
        depth_scale: ``tau`` of the WordNet specificity ``1 - exp(-depth / tau)``.
        verb_depth_offset: added to verb synsets' depth (verb hierarchies are shallow).
        general_penalty: factor on the score of :data:`GENERAL_SYNSETS`.
        min_piece_length: shorter word pieces are not looked up in WordNet.
        max_noun_senses: noun senses per word considered.
        max_verb_senses: verb senses per word considered.
        n_alternatives: runner-up candidates kept in ``Label.alternatives``.
        wordnet_path: a WordNet directory (None: search; see :mod:`~vocablens.annotate.wordnet`).

    Attributes:
        lexicon_: the cached WordNet look-ups (after :meth:`fit`).
        n_vocabulary_: how many vocabulary tokens were pre-analysed by :meth:`fit`.
    """

    def __init__(
        self,
        min_coverage: float = 0.5,
        depth_scale: float = 3.0,
        verb_depth_offset: int = 4,
        general_penalty: float = 0.5,
        min_piece_length: int = 3,
        max_noun_senses: int = 6,
        max_verb_senses: int = 3,
        n_alternatives: int = 3,
        wordnet_path: str | None = None,
    ):
        self.min_coverage = min_coverage
        self.depth_scale = depth_scale
        self.verb_depth_offset = verb_depth_offset
        self.general_penalty = general_penalty
        self.min_piece_length = min_piece_length
        self.max_noun_senses = max_noun_senses
        self.max_verb_senses = max_verb_senses
        self.n_alternatives = n_alternatives
        self.wordnet_path = wordnet_path

    # ----- fitting ---------------------------------------------------------------------------
    def fit(self, vocabulary: Iterable[str] | None = None, y: object = None) -> ConceptLabeler:
        """Open WordNet and (optionally) pre-analyse a vocabulary's tokens.

        Args:
            vocabulary: token strings to warm the caches with (e.g. every decoded token).
            y: ignored (scikit-learn signature).

        Returns:
            self.
        """
        self.lexicon_ = Lexicon(self.max_noun_senses, self.max_verb_senses, self.wordnet_path)
        self.lexicon_.wn  # noqa: B018  (opens the database now, not in the first label call)
        self._analysis_cache: dict[str, TokenAnalysis] = {}
        self._spec_cache: dict[str, float] = {}
        n = 0
        for token in vocabulary or ():
            self.analyse(token)
            n += 1
        self.n_vocabulary_ = n
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "lexicon_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("ConceptLabeler is not fitted yet: call fit() first")

    # ----- per token -------------------------------------------------------------------------
    def analyse(self, token: str) -> TokenAnalysis:
        """Normalize a token, look it up in WordNet and find its classes (cached per string)."""
        cached = self._analysis_cache.get(token)
        if cached is not None:
            return cached
        self._check_fitted()
        norm = normalize_token(token)
        senses = None
        if norm.kind == "word" or (
            norm.kind == "piece" and len(norm.text) >= self.min_piece_length
        ):
            senses = self.lexicon_.senses(norm.lower)
        classes = token_classes(norm, senses, self.lexicon_)
        if senses is not None and "function word" in classes:
            senses = None  # "the" -> WordNet's odd noun senses would only add noise
        result = TokenAnalysis(norm, senses, classes)
        self._analysis_cache[token] = result
        return result

    def specificity(self, synset: str) -> float:
        """``1 - exp(-depth / depth_scale)`` (times ``general_penalty`` for general synsets)."""
        spec = self._spec_cache.get(synset)
        if spec is None:
            pos = synset.rsplit(".", 2)[-2]  # "day_of_the_week.n.01" -> "n"
            depth = self.lexicon_.depth(synset) + (self.verb_depth_offset if pos == "v" else 0)
            spec = 1.0 - math.exp(-depth / self.depth_scale)
            if synset in GENERAL_SYNSETS:
                spec *= self.general_penalty
            self._spec_cache[synset] = spec
        return spec

    # ----- labelling -------------------------------------------------------------------------
    def label(self, tokens: Sequence[str]) -> Label:
        """Label one list of top tokens (see the module docstring for the rule).

        Args:
            tokens: token strings, best first (``[" Monday", " Tuesday", ...]``).

        Returns:
            A :class:`Label` (``NO_LABEL``-like with ``kind="none"`` when nothing fits).
        """
        self._check_fitted()
        tokens = [str(t) for t in tokens]
        n = len(tokens)
        if n == 0:
            return NO_LABEL
        analyses = [self.analyse(t) for t in tokens]
        return self.label_analyses(tokens, analyses)

    def label_analyses(self, tokens: Sequence[str], analyses: Sequence[TokenAnalysis]) -> Label:
        """Label already-analysed tokens (used by the detector to avoid a second look-up)."""
        n = len(tokens)
        if n == 0:
            return NO_LABEL
        synset_counts = Counter(chain.from_iterable(a.ancestors for a in analyses))
        class_counts = Counter(chain.from_iterable(a.classes for a in analyses))
        scored: list[tuple[float, int, float, str, bool]] = []  # score, count, spec, name, is_wn
        spec_cache = self._spec_cache
        for name, count in synset_counts.items():
            if count >= 2 or n == 1:
                spec = spec_cache.get(name)
                if spec is None:
                    spec = self.specificity(name)
                scored.append((count / n * spec, count, spec, name, True))
        for name, count in class_counts.items():
            weight = class_info(name).weight
            scored.append((count / n * weight, count, weight, name, False))
        if not scored:
            return Label("", NO_LABEL_KIND, None, None, 0.0, (), 0.0, False, n)
        scored = heapq.nlargest(1 + self.n_alternatives, scored)
        best_score, count, _, name, is_wn = scored[0]
        alternatives = tuple(
            (self._readable(s[3], s[4]), round(s[0], 4))
            for s in scored[1 : 1 + self.n_alternatives]
        )
        if is_wn:
            info = self.lexicon_.synset_info(name)
            explained = tuple(
                t for t, a in zip(tokens, analyses, strict=True) if name in a.ancestors
            )
            general = name in GENERAL_SYNSETS
            return Label(
                label=info.label,
                kind=WORDNET,
                supersense=info.lexname,
                synset=name,
                coverage=count / n,
                explained=explained,
                score=best_score,
                confident=count / n >= self.min_coverage and not general,
                n_tokens=n,
                alternatives=alternatives,
            )
        explained = tuple(t for t, a in zip(tokens, analyses, strict=True) if name in a.classes)
        return Label(
            label=name,
            kind=class_info(name).kind,
            supersense=None,
            synset=None,
            coverage=count / n,
            explained=explained,
            score=best_score,
            confident=count / n >= self.min_coverage,
            n_tokens=n,
            alternatives=alternatives,
        )

    def _readable(self, name: str, is_wn: bool) -> str:
        return self.lexicon_.synset_info(name).label if is_wn else name

    def transform(self, token_lists: Iterable[Sequence[str]]) -> pd.DataFrame:
        """Label many token lists.

        Args:
            token_lists: one list of top tokens per vector.

        Returns:
            One row per list with the columns of :meth:`Label.as_dict`.
        """
        rows = [self.label(tokens).as_dict() for tokens in token_lists]
        return pd.DataFrame(rows, columns=list(NO_LABEL.as_dict()))

    def fit_transform(self, token_lists: Iterable[Sequence[str]], y: object = None) -> pd.DataFrame:
        """``fit()`` then :meth:`transform` (the vocabulary is not pre-analysed)."""
        return self.fit().transform(token_lists)
