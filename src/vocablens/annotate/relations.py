"""Head words: a word of the list and the other words WordNet relates to it directly.

A careful reader sees "age" in ``older, elderly, aged, ageing, years`` although no synset
holds them all: the words are *directly related* in WordNet without sharing an ancestor. Two
words are **related** when one's base form is among the other's **near words**: for each of its
first :data:`SENSES` senses per part of speech, the synset's lemmas (synonyms), its similar
adjectives, attribute nouns and direct hypernyms, its lemmas' derivations and pertainyms, and the
base forms of the content words of its definition (``elderly``: "advanced in *years*; ... *old*").

A **head candidate** is one variant group of the list (the head) together with every other
group related to it. It is strong (a confident concept) when it explains at least
``min_words`` groups and ``min_tokens`` tokens, its head has at least ``min_head_tokens``
variants in the list and the candidate covers ``min_coverage`` of the list; very frequent head
words (wordfreq Zipf above :data:`MAX_HEAD_ZIPF`: ``time``, ``make``) relate to too much to name
a concept. The label is the head's base form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vocablens.annotate.words import FUNCTION_WORDS, zipf

#: Senses per part of speech whose relations count (WordNet orders senses by frequency).
SENSES = 3
#: Head words more frequent than this (Zipf scale) are never heads.
MAX_HEAD_ZIPF = 6.0
#: Words of WordNet's definitions that say how a gloss is phrased, not what it is about, and
#: words so general that they relate everything.
_GLOSS_WORDS_TEXT = """
    used especially esp etc someone something thing things person make made relating relate
    characterized having being act state quality form kind way part one two often usually use
    give take get
"""
GLOSS_WORDS = frozenset(_GLOSS_WORDS_TEXT.split())
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Head:
    """A head word and the groups related to it.

    Attributes:
        word: the head's base form (the label).
        groups: indices of the explained groups, the head's first.
        related: the base forms of the related groups' words, in list order.
    """

    word: str
    groups: tuple[int, ...]
    related: tuple[str, ...]


class Relations:
    """Cached near words and base forms over the labeller's WordNet lexicon.

    Args:
        lexicon: the :class:`~vocablens.annotate.wordnet.Lexicon` (its cached ``synsets``).
    """

    def __init__(self, lexicon: Any):
        self.lexicon = lexicon
        self._base: dict[str, str] = {}
        self._near: dict[str, frozenset[str]] = {}

    def base(self, word: str) -> str:
        """The first WordNet base form of a lower-case word (noun, verb, adjective), else itself."""
        hit = self._base.get(word)
        if hit is None:
            hit = word
            for pos in ("n", "v", "a"):
                forms = self.lexicon.wn._morphy(word, pos)
                if forms:
                    hit = forms[0]
                    break
            self._base[word] = hit
        return hit

    def near(self, word: str) -> frozenset[str]:
        """The near words of a lower-case word (see the module docstring)."""
        hit = self._near.get(word)
        if hit is None:
            out: set[str] = set()
            seen: dict[str, int] = {}
            for s in self.lexicon.synsets(word):
                if seen.get(s.pos(), 0) >= SENSES:
                    continue
                seen[s.pos()] = seen.get(s.pos(), 0) + 1
                for r in [s, *s.similar_tos(), *s.attributes(), *s.hypernyms()]:
                    out.update(n.lower() for n in r.lemma_names() if "_" not in n)
                for lemma in s.lemmas():
                    linked = lemma.derivationally_related_forms() + lemma.pertainyms()
                    out.update(d.name().lower() for d in linked)
                gloss = _WORD.findall(s.definition().lower())
                out.update(self.base(g) for g in gloss if len(g) >= 3)
            hit = frozenset(t for t in out if t not in FUNCTION_WORDS and t not in GLOSS_WORDS)
            self._near[word] = hit
        return hit

    def related(self, a: str, b: str) -> bool:
        """Whether two base forms are directly related (either is a near word of the other)."""
        return b in self.near(a) or a in self.near(b)

    def heads(self, words: Sequence[str | None]) -> list[Head]:
        """Every head of a list of groups' base forms (None: a group with no content word)."""
        present = {w for w in words if w is not None}
        linked: dict[str, set[str]] = {w: set() for w in present}
        for w in present:  # one intersection per word, not one look-up per pair
            for other in self.near(w) & present:
                if other != w:
                    linked[w].add(other)
                    linked[other].add(w)
        out: list[Head] = []
        for i, head in enumerate(words):
            if head is None or not linked[head] or zipf(head) > MAX_HEAD_ZIPF:
                continue
            others = [j for j, w in enumerate(words) if j != i and w in linked[head]]
            out.append(Head(head, (i, *others), tuple(str(words[j]) for j in others)))
        return out
