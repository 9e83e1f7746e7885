"""What a :class:`~vocablens.annotate.labeler.ConceptLabeler` returns: concepts and labels."""

from __future__ import annotations

from dataclasses import dataclass, field

from vocablens.annotate.result import NO_LABEL_KIND, SEMANTIC

#: The pseudo-synset of the "number" concept (digits, number words, ordinals).
NUMBER = "number"
#: Pseudo-synset of code identifiers ("programming code").
CODE = "code"
#: Pseudo-synset of people's first names and surnames ("personal names").
NAMES = "names"
#: Prefix of a closed-class category's pseudo-synset ("closed:personal pronoun").
CLOSED = "closed:"
#: Prefix of a word family's pseudo-synset ("family:thank").
LEXICAL = "family:"
#: Name prefix of a meaning class of function words and adverbs (``time order``).
MEANING = "meaning:"
#: Name prefix of a head-word candidate (:mod:`~vocablens.annotate.relations`).
HEAD = "head:"
#: Name prefix of a theme candidate (:mod:`~vocablens.annotate.themes`: "theme:buyer, seller").
THEME = "theme:"


@dataclass(frozen=True)
class Concept:
    """One semantic group of a token list.

    Attributes:
        label: readable name (``"day of the week"``, ``"number"``).
        synset: the WordNet synset (``"day_of_the_week.n.01"``); None for "number".
        supersense: its lexicographer file (``"noun.time"``); ``"number"`` for numbers.
        coverage: rank-weighted share of the list it explains (0..1).
        n_words: how many variant groups it explains.
        explained: the tokens it explains, in input order.
        score: ``coverage * IC ** specificity_power``.
    """

    label: str
    synset: str | None
    supersense: str | None
    coverage: float
    n_words: int
    explained: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class Label:
    """The meaning and form of a token list (see the module docstring).

    Attributes:
        label: the headline label (the confident semantic label, else the form description,
            else the best unconfident semantic candidate); ``""`` when nothing fits.
        kind: ``"semantic"``, ``"form"`` or ``"none"`` (the kind of ``label``).
        supersense: the semantic label's WordNet lexicographer file (None for form labels).
        synset: the semantic label's synset name or None.
        coverage: the rank-weighted share of the list ``label`` explains (0..1).
        explained: the tokens it explains, in input order.
        score: the semantic label's score (0 for form labels).
        confident: ``label`` is confident (semantic: coverage and words enough; form: its share).
        n_tokens: how many tokens were read.
        form: the form description (``"plural nouns"``), ``""`` when no form dominates.
        form_coverage: the rank-weighted share of the tokens of the best form class.
        groups: the semantic groups found (best first): one, or two for a polysemantic list.
        polysemantic: two unrelated semantic groups, each a weak concept of its own.
        form_readout: the readout the form was read on (``""`` without a form).
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
    form: str = ""
    form_coverage: float = 0.0
    groups: tuple[Concept, ...] = field(default=(), compare=False)
    polysemantic: bool = False
    form_readout: str = ""

    @property
    def semantic(self) -> bool:
        """Whether the headline label is a confident semantic label."""
        return self.confident and self.kind == SEMANTIC

    def as_dict(self) -> dict[str, object]:
        """The fields as a flat dict (``explained`` '|'-joined, groups as their labels)."""
        return {
            "label": self.label,
            "label_kind": self.kind,
            "supersense": self.supersense,
            "synset": self.synset,
            "coverage": self.coverage,
            "explained_tokens": "|".join(self.explained),
            "label_score": self.score,
            "confident": self.confident,
            "form": self.form,
            "form_coverage": self.form_coverage,
            "form_readout": self.form_readout,
            "polysemantic": self.polysemantic,
            "cluster_labels": "|".join(g.label for g in self.groups),
        }


NO_LABEL = Label("", NO_LABEL_KIND, None, None, 0.0, (), 0.0, False, 0)


@dataclass(frozen=True)
class Candidate:
    """A candidate concept: coverage, distinct words, explained token indices, score."""

    name: str
    coverage: float
    n_words: int
    n_tokens: int
    explained_idx: tuple[int, ...]
    score: float
    concept: Concept
