"""What a label says: checked once here, and reduced to the value agreement compares.

A label is a concept (free text), or "no concept"; a polysemantic vector gets one label per
group; a confidence in [0, 1]; a note. Text is stored exactly as typed (quotes, ``<script>``,
control characters), except NUL, which PostgreSQL cannot store and no person types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vocablens.campaign.db import CampaignError

MAX_TEXT = 500
MAX_NOTE = 4000
MAX_GROUPS = 12
#: The value of a "no concept" answer in agreement statistics.
NO_CONCEPT = "(no concept)"


class BadLabel(CampaignError):
    """A label that breaks the rules above (HTTP 422)."""


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise BadLabel(f"{what} must be a string")
    if len(value) > limit:
        raise BadLabel(f"{what} is longer than {limit} characters")
    if "\x00" in value:
        raise BadLabel(f"{what} may not contain NUL characters")
    return value


@dataclass(frozen=True)
class Answer:
    """A checked label.

    Attributes:
        concept: the concept ("" for no concept; for a polysemantic vector, its groups joined
            by ``" | "`` when not given).
        no_concept: the person saw no concept.
        polysemantic: the vector has several groups.
        groups: one label per group (polysemantic only).
        confidence: in [0, 1].
        note: free text.
    """

    concept: str = ""
    no_concept: bool = False
    polysemantic: bool = False
    groups: tuple[str, ...] = field(default_factory=tuple)
    confidence: float = 1.0
    note: str = ""

    @classmethod
    def parse(cls, data: Any) -> Answer:
        """Check a JSON object (the API's body) and build the answer.

        Raises:
            BadLabel: a wrong type, an empty label, text too long, a confidence out of range.
        """
        if not isinstance(data, dict):
            raise BadLabel("the label must be a JSON object")
        known = {"concept", "no_concept", "polysemantic", "groups", "confidence", "note",
                 "item_id", "idempotency_key"}  # fmt: skip
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadLabel(f"unknown field {unknown[0]!r}")
        concept = _text(data.get("concept", ""), "concept", MAX_TEXT).strip()
        flags = {}
        for name in ("no_concept", "polysemantic"):
            flags[name] = data.get(name, False)
            if not isinstance(flags[name], bool):
                raise BadLabel(f"{name} must be true or false")
        groups_in = data.get("groups", [])
        if not isinstance(groups_in, list) or len(groups_in) > MAX_GROUPS:
            raise BadLabel(f"groups must be a list of at most {MAX_GROUPS} strings")
        groups = tuple(g for g in (_text(g, "a group", MAX_TEXT).strip() for g in groups_in) if g)
        confidence = data.get("confidence", 1.0)
        if isinstance(confidence, bool) or not isinstance(confidence, int | float):
            raise BadLabel("confidence must be a number")
        if not 0 <= confidence <= 1:
            raise BadLabel("confidence must be between 0 and 1")
        note = _text(data.get("note", ""), "note", MAX_NOTE)
        if flags["no_concept"]:
            if concept or groups or flags["polysemantic"]:
                raise BadLabel("a 'no concept' label has no concept, groups or polysemantic flag")
        elif flags["polysemantic"]:
            if len(groups) < 2:
                raise BadLabel("a polysemantic label needs at least two groups")
            concept = concept or " | ".join(groups)
        elif not concept:
            raise BadLabel("a label needs a concept (or no_concept: true)")
        elif groups:
            raise BadLabel("groups are for polysemantic labels")
        return cls(concept, flags["no_concept"], flags["polysemantic"], groups,
                   float(confidence), note)  # fmt: skip


def normal(text: str) -> str:
    """How two concepts are compared: case-folded, inner whitespace collapsed."""
    return " ".join(text.casefold().split())


def label_set(
    no_concept: bool, polysemantic: bool, concept: str, groups: list | tuple
) -> frozenset:
    """The set of concepts a label names (MASI distance compares these)."""
    if no_concept:
        return frozenset([NO_CONCEPT])
    if polysemantic and groups:
        return frozenset(normal(g) for g in groups)
    return frozenset([normal(concept)])


def nominal(no_concept: bool, polysemantic: bool, concept: str, groups: list | tuple) -> str:
    """The single value a label is (nominal agreement): its label set, sorted and joined."""
    return " | ".join(sorted(label_set(no_concept, polysemantic, concept, groups)))
