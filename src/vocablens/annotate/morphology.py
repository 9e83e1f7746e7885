"""Morphological, syntactic and token-kind classes: the labels WordNet's hierarchy cannot give.

Every class has a readable name (the label), a label kind (``"morphological"`` or
``"token-kind"``) and a *weight* in (0, 1] that plays the role WordNet labels' specificity in the
labeller's score (``score = coverage * weight``): exact surface classes (numbers, punctuation, a
script) weigh most; "capitalized word" and "word piece" weigh least, so that a semantic WordNet
label with similar coverage wins over them (cities are capitalized, but "city" is the concept).

==================================== ================ ======= ====================================
class                                kind             weight  membership
==================================== ================ ======= ====================================
past-tense verb                      morphological    0.85    ``-ed`` with a different verb base
                                                              (WordNet's morphy), or an irregular
                                                              past / participle (``verb.exc``)
-ing form                            morphological    0.85    ``-ing`` with a different verb base
plural noun                          morphological    0.80    ``-s`` with a different noun base, or
                                                              an irregular plural (``noun.exc``)
-ly adverb                           morphological    0.80    ``-ly`` and an adverb in WordNet
comparative or superlative adjective morphological    0.80    ``-er`` / ``-est`` with a different
                                                              adjective base (``adj.exc`` too)
function word                        morphological    0.80    a closed-class English word
capitalized word                     morphological    0.55    Title-case Latin word
uppercase word                       morphological    0.60    ALL-CAPS Latin word (2+ letters)
number / punctuation / symbol /      token-kind       0.90    the token kind (see
whitespace / code or markup / byte                            :mod:`~vocablens.annotate.normalize`)
<Script> script (Cyrillic, CJK, ...) token-kind       0.90    letters of that script
special token                        token-kind       0.90    ``<|endoftext|>``, ``<s>``, ...
word piece                           token-kind       0.50    a Latin piece that is no known word
==================================== ================ ======= ====================================
"""

from __future__ import annotations

from dataclasses import dataclass

from vocablens.annotate.normalize import NormalToken
from vocablens.annotate.wordnet import Lexicon, WordSenses
from vocablens.annotate.words import FUNCTION_WORDS

#: The kinds of :func:`class_info` (the classes' own grouping; labels are ``"form"`` now).
MORPHOLOGICAL, TOKEN_KIND = "morphological", "token-kind"


@dataclass(frozen=True)
class ClassInfo:
    """A non-WordNet class: its label kind and weight (see the module docstring)."""

    name: str
    kind: str
    weight: float


_MORPH = {
    "past-tense verb": 0.85,
    "-ing form": 0.85,
    "plural noun": 0.80,
    "-ly adverb": 0.80,
    "comparative or superlative adjective": 0.80,
    "function word": 0.80,
    "capitalized word": 0.55,
    "uppercase word": 0.60,
}
_KIND_NAMES = {
    "number": "number",
    "punctuation": "punctuation",
    "symbol": "symbol",
    "whitespace": "whitespace",
    "code": "code or markup",
    "byte": "byte",
    "special": "special token",
}
_TOKEN_KIND_WEIGHT = 0.90
_PIECE_WEIGHT = 0.50

#: Closed-class English words: the lexicon's one list (:data:`vocablens.annotate.words.FUNCTION_WORDS`).


def class_info(name: str) -> ClassInfo:
    """The :class:`ClassInfo` of a class name produced by :func:`token_classes`."""
    if name in _MORPH:
        return ClassInfo(name, MORPHOLOGICAL, _MORPH[name])
    if name == "word piece":
        return ClassInfo(name, TOKEN_KIND, _PIECE_WEIGHT)
    return ClassInfo(name, TOKEN_KIND, _TOKEN_KIND_WEIGHT)


def _differs(senses: WordSenses, pos: str, word: str) -> bool:
    return bool(senses.bases.get(pos))


def _mostly_verb_form(word: str, senses: WordSenses, lexicon: Lexicon) -> bool:
    """The verb bases are used at least as often as ``word`` itself (``red`` is no past of rid)."""
    bases = senses.bases.get("v", ())
    return sum(lexicon.count(b, "v") for b in bases) >= lexicon.count(word)


def _past(word: str, senses: WordSenses, lexicon: Lexicon) -> bool:
    if not _differs(senses, "v", word) or word.endswith(("ing", "s")):
        return False
    regular = word.endswith("ed") and len(word) > 3
    irregular = word in lexicon.exceptions("v")
    return (regular or irregular) and _mostly_verb_form(word, senses, lexicon)


def word_classes(word: str, senses: WordSenses, lexicon: Lexicon) -> set[str]:
    """Morphological classes of a lower-cased Latin word."""
    out: set[str] = set()
    if word in FUNCTION_WORDS:
        out.add("function word")
        return out
    if _past(word, senses, lexicon):
        out.add("past-tense verb")
    if (
        word.endswith("ing")
        and len(word) > 4
        and _differs(senses, "v", word)
        and (_mostly_verb_form(word, senses, lexicon))
    ):
        out.add("-ing form")
    if _differs(senses, "n", word) and (word.endswith("s") or word in lexicon.exceptions("n")):
        out.add("plural noun")
    if word.endswith("ly") and len(word) > 4 and "adv.all" in senses.lexnames:
        out.add("-ly adverb")
    if _differs(senses, "a", word):
        out.add("comparative or superlative adjective")
    return out


def token_classes(
    token: NormalToken, senses: WordSenses | None, lexicon: Lexicon
) -> frozenset[str]:
    """All non-WordNet classes of one token (possibly none).

    Args:
        token: the normalized token.
        senses: its WordNet senses (None for tokens that are not Latin words).
        lexicon: the WordNet look-ups (for irregular forms).
    """
    kind = token.kind
    if kind in _KIND_NAMES:
        return frozenset({_KIND_NAMES[kind]})
    if kind == "script":
        return frozenset({f"{token.script} script"})
    if kind not in ("word", "piece"):
        return frozenset()
    out: set[str] = set()
    if senses is not None:
        out |= word_classes(token.lower, senses, lexicon)
    if token.case == "title" and len(token.text) > 1:
        out.add("capitalized word")
    elif token.case == "upper" and len(token.text) > 1:
        out.add("uppercase word")
    if kind == "piece" and (senses is None or not senses.known) and "function word" not in out:
        out.add("word piece")
    return frozenset(out)
