"""Candidate concepts of a list: every synset, class, family, code and names group it reaches.

Functions of a fitted :class:`~vocablens.annotate.labeler.ConceptLabeler` (``lab``), whose
parameters they read; see its module docstring for the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from vocablens.annotate.analysis import SUPERSENSE, SUPERSENSES, TokenAnalysis
from vocablens.annotate.groups import Group, support_of
from vocablens.annotate.label_types import (
    CLOSED,
    CODE,
    LEXICAL,
    MEANING,
    NAMES,
    NUMBER,
    THEME,
    Candidate,
    Concept,
)
from vocablens.annotate.names import is_personal_name
from vocablens.annotate.words import CLOSED_CLASSES, MEANING_CLASSES

if TYPE_CHECKING:
    from vocablens.annotate.labeler import ConceptLabeler

#: Synsets too general to be a concept whatever their information content.
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
    written_communication.n.01 writing.n.02 adult.n.01 worker.n.01 solid.n.01
    fluid.n.01 body.n.01 equipment.n.01 system.n.01
"""
GENERAL_SYNSETS = frozenset(_GENERAL_SYNSETS_TEXT.split())


def candidates(
    lab: ConceptLabeler,
    groups: Sequence[Group],
    analyses: Sequence[TokenAnalysis],
    weights: Sequence[float],
    pos: str,
    total: float,
    tokens: Sequence[str],
) -> list[Candidate]:
    """Every candidate concept of the list, best score first."""
    mass: dict[str, float] = {}
    members: dict[str, list[int]] = {}
    words: dict[str, int] = {}

    def add(name: str, g: Group, w: float) -> None:
        mass[name] = mass.get(name, 0.0) + g.weight * w
        if w >= 0.5:
            members.setdefault(name, []).extend(g.members)
            words[name] = words.get(name, 0) + 1

    for g in groups:
        a = g.analysis
        for name, members_of in MEANING_CLASSES.items():
            if a.word and (a.key in members_of or a.token.lower in members_of):
                add(MEANING + name, g, 1.0)
        if a.number:
            add(NUMBER, g, 1.0)
        elif a.function:
            for name, closed in CLOSED_CLASSES.items():
                if a.key in closed:
                    add(CLOSED + name, g, 1.0)
        else:
            for name, w in support_of(g, pos).items():
                add(name, g, w)
        words_in = [i for i in g.members if analyses[i].word]
        if len(g.members) >= 2 and words_in:
            add(LEXICAL + analyses[words_in[0]].token.lower, g, 1.0)
    for name, found in ((CODE, [i for i, a in enumerate(analyses) if a.code]),
                        (NAMES, [i for i, a in enumerate(analyses)
                                 if is_personal_name(a, lab.lexicon_)])):  # fmt: skip
        if found:  # each token counts as a word: identifiers and names are not variant groups
            mass[name] = sum(weights[i] for i in found)
            members[name] = found
            words[name] = len(found)
    out: list[Candidate] = []
    power = lab.specificity_power
    for name, m in mass.items():
        if words.get(name, 0) < 1 or name in GENERAL_SYNSETS:
            continue
        if words[name] == 1 and not name.startswith(LEXICAL) and name not in (CODE, NAMES):
            continue  # one word's senses: its word family is the candidate
        spec = lab.ic(name)
        if spec < lab.min_ic:
            continue
        idx = tuple(sorted(members[name]))
        coverage = m / total
        score = coverage * spec**power
        concept = concept_of(lab, name, coverage, words[name], idx, tokens, score)
        out.append(Candidate(name, coverage, words[name], len(idx), idx, score, concept))
    out.sort(key=lambda c: (-c.score, c.name))
    return out


def concept_of(
    lab: ConceptLabeler, name: str, coverage: float, n_words: int, idx: tuple[int, ...],
    tokens: Sequence[str], score: float,
) -> Concept:  # fmt: skip
    """The :class:`Concept` of a candidate ``name`` explaining the tokens at ``idx``."""
    explained = tuple(tokens[i] for i in idx)
    if name == NUMBER:
        return Concept("number", None, NUMBER, coverage, n_words, explained, score)
    if name == CODE:
        return Concept("programming code", None, CODE, coverage, n_words, explained, score)
    if name == NAMES:
        return Concept("personal names", None, NAMES, coverage, n_words, explained, score)
    if name.startswith(CLOSED):
        label = name[len(CLOSED) :]
        return Concept(label, None, "closed class", coverage, n_words, explained, score)
    if name.startswith(MEANING):
        label = name[len(MEANING) :]
        return Concept(label, None, "meaning class", coverage, n_words, explained, score)
    if name.startswith(LEXICAL):
        label = name[len(LEXICAL) :]
        return Concept(label, None, "word family", coverage, n_words, explained, score)
    if name.startswith(THEME):
        label = name[len(THEME) :]
        return Concept(label, None, "similar words", coverage, n_words, explained, score)
    if name.startswith(SUPERSENSE):
        lexname = name[len(SUPERSENSE) :]
        return Concept(SUPERSENSES[lexname], None, lexname, coverage, n_words, explained, score)
    info = lab.lexicon_.synset_info(name)
    return Concept(info.label, name, info.lexname, coverage, n_words, explained, score)
