"""One token as the labeller sees it: word or piece, variant key, WordNet support, form classes.

:func:`analyse_token` (cached per token string by the labeller) combines

* :func:`~vocablens.annotate.normalize.normalize_token` (markers, case, token kind);
* the lexicon of :mod:`~vocablens.annotate.words` (word or piece; number; variant key);
* the token's **support**, per part of speech: every synset its leading senses reach (the senses
  and all their hypernyms), weighted by how common the sense is: ``(c + 1) / (c_max + 1)`` with
  ``c`` the sense's tagged-corpus count (WordNet's ``cntlist``), times ``1 / (1 + 0.3 r)`` for its
  rank ``r``; senses below :data:`MIN_SENSE_WEIGHT` and beyond :data:`MAX_SENSES` are dropped,
  so "water" supports "liquid" but not the rare verb senses that reach "give"; also each kept
  sense's derivations in the other part of speech (``occurrence`` -> ``happen.v.01``), its
  supersense when :data:`SUPERSENSES` names it (``super:noun.feeling``), and under ``"a"`` the
  adjective clusters, attribute nouns and derived nouns of its adjective senses (adverbs: of
  the adjectives they pertain to);
* its **form** classes (:data:`FORMS`): what the token looks like, never what it means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vocablens.annotate.morphology import word_classes
from vocablens.annotate.normalize import NormalToken, normalize_token
from vocablens.annotate.python_names import python_names
from vocablens.annotate.words import FUNCTION_WORDS, NUMBER_WORDS, zipf

#: Senses per part of speech a word supports.
MAX_SENSES = 4
#: Senses weighing less than this (relative to the word's most common sense) are dropped.
MIN_SENSE_WEIGHT = 0.15
#: Prefix of a supersense's pseudo-synset (``"super:noun.feeling"``).
SUPERSENSE = "super:"
#: WordNet's lexicographer files that are coarse topics a reader accepts, with readable names;
#: the others (``noun.artifact``, ``noun.person``, ``verb.communication`` ...) hold most words
#: of a random list and would name noise.
SUPERSENSES = {
    "noun.animal": "animals",
    "noun.body": "body",
    "noun.feeling": "feelings",
    "noun.food": "food",
    "noun.location": "places",
    "noun.plant": "plants",
    "noun.shape": "shapes",
    "noun.substance": "substances",
    "verb.body": "body",
    "verb.competition": "competition",
    "verb.consumption": "eating and consuming",
    "verb.emotion": "feelings",
    "verb.perception": "perception",
    "verb.weather": "weather",
}
#: Supersenses whose topic is made of named instances only: "places" are ``Egypt``, ``Rome``,
#: ``north`` (WordNet's instances), not the common nouns ``side``, ``post``, ``end``, ``home``
#: whose leading sense WordNet files as a location.
NAMED_ONLY = frozenset({"noun.location"})
#: Weight of a derivationally related synset relative to the sense it comes from.
DERIVED_WEIGHT = 0.8
#: wordfreq frequency (Zipf) a WordNet lemma needs to count as a word.
MIN_ZIPF = 2.5

#: Form classes and their readable descriptions (the ``form`` column).
FORMS = {
    "plural": "plural nouns",
    "past": "past-tense verbs",
    "ing": "-ing forms",
    "ly": "-ly adverbs",
    "comparative": "comparative or superlative adjectives",
    "function": "function words",
    "capitalized": "capitalized words",
    "uppercase": "uppercase words",
    "start": "word starts (fragments)",
    "piece": "word pieces (fragments)",
    "letter": "single letters",
    "digits": "digits",
    "punctuation": "punctuation",
    "symbol": "symbols",
    "whitespace": "whitespace",
    "code": "code tokens",
    "byte": "byte tokens",
    "special": "special tokens",
}
_MORPH = {
    "plural noun": "plural",
    "past-tense verb": "past",
    "-ing form": "ing",
    "-ly adverb": "ly",
    "comparative or superlative adjective": "comparative",
}
_KINDS = {
    "number": "digits",
    "punctuation": "punctuation",
    "symbol": "symbol",
    "whitespace": "whitespace",
    "code": "code",
    "byte": "byte",
    "special": "special",
}


@dataclass(frozen=True)
class TokenAnalysis:
    """One analysed token.

    Attributes:
        token: the normalized token.
        key: the variant key (lemma of the lower-cased word, else the lower-cased text).
        word: a lexicon word (see :mod:`~vocablens.annotate.words`).
        number: digits or a number word.
        function: a closed-class word.
        support: per part of speech (``"n"``, ``"v"``, ``"a"``: adjective clusters, their
            attributes and derived nouns), synset name -> weight (0..1].
        pos_share: per part of speech (``n``, ``v``, ``a``), the share of the word's tagged uses.
        forms: form classes (keys of :data:`FORMS`); a script's class is ``"script:<Name>"``.
        code: a code identifier (``snake_case``, ``camelCase``, ``asarray``).
        python: a Python name (:mod:`~vocablens.annotate.python_names`: ``␣pathlib``,
            ``setattr``), not a lexicon word.
    """

    token: NormalToken
    key: str
    word: bool
    number: bool
    function: bool
    support: dict[str, dict[str, float]] = field(default_factory=dict)
    pos_share: dict[str, float] = field(default_factory=dict)
    forms: frozenset[str] = frozenset()
    code: bool = False
    python: bool = False


def is_compound_identifier(lower: str) -> bool:
    """Whether letters that are no word are two common words run together (``asarray``).

    Only asked for tokens that do not start a word (identifiers follow ``.``, ``(``, ``_``).
    """
    if len(lower) < 6 or not lower.isalpha():
        return False
    return any(
        zipf(lower[:i]) >= 3.0 and zipf(lower[i:]) >= 3.0 and len(lower) - i >= 3
        for i in range(2, len(lower) - 2)
    )


def form_name(form: str) -> str:
    """The readable description of a form class (``"script:Cyrillic"`` -> ``"Cyrillic script"``)."""
    if form.startswith("script:"):
        return f"{form[7:]} script"
    return FORMS[form]


def _is_lemma(wn: Any, lower: str) -> bool:
    """Whether WordNet has ``lower`` as a lemma or an inflection of one.

    A short word (3 letters or fewer) that WordNet holds only in capitals is an abbreviation
    (``Ar``, ``ED``), not a word.
    """
    synsets = wn.synsets(lower)
    if not synsets:
        return False
    exact = [n for s in synsets for n in s.lemma_names() if n.lower() == lower]
    if exact:
        return lower in exact or len(lower) > 3
    return True  # an inflection of a lemma (WordNet's morphy found its base)


def is_word(wn: Any, norm: NormalToken) -> bool:  # wn: anything with WordNet's ``synsets``
    """Whether a Latin-letter token is a word of the lexicon (see :mod:`~vocablens.annotate.words`)."""
    lower = norm.lower
    if lower in FUNCTION_WORDS or lower in NUMBER_WORDS:
        return True
    if len(lower) <= 2 or (not norm.word_start and len(lower) <= 3):
        return False
    return zipf(lower) >= MIN_ZIPF and _is_lemma(wn, lower)


def analyse_token(raw: str, lexicon: Any) -> TokenAnalysis:
    """Analyse one token string (see the module docstring).

    Args:
        raw: the token as shown (``" Paris"``, ``"ĠParis"``).
        lexicon: the :class:`~vocablens.annotate.wordnet.Lexicon`.
    """
    norm = normalize_token(raw)
    python = norm.text in python_names()  # a word of the lexicon is not (below)
    if norm.kind in _KINDS:
        form = _KINDS[norm.kind]
        code = norm.kind == "code" and sum(ch.isalpha() for ch in norm.text) >= 3
        return TokenAnalysis(norm, norm.lower, False, norm.kind == "number", False,
                             forms=frozenset({form}), code=code, python=python)  # fmt: skip
    if norm.kind == "script":
        return TokenAnalysis(norm, norm.lower, False, False, False,
                             forms=frozenset({f"script:{norm.script}"}))  # fmt: skip
    if norm.kind not in ("word", "piece"):
        return TokenAnalysis(norm, norm.lower, False, False, False)
    lower = norm.lower
    forms: set[str] = set()
    if norm.case == "title" and len(norm.text) > 1:
        forms.add("capitalized")
    elif norm.case == "upper" and len(norm.text) > 1:
        forms.add("uppercase")
    if len(lower) == 1:
        forms.add("letter")
        return TokenAnalysis(norm, lower, False, False, False, forms=frozenset(forms))
    if not is_word(lexicon, norm):  # the Lexicon's cached ``synsets`` stands in for WordNet's
        forms.add("start" if norm.word_start else "piece")  # "␣strugg" / "ment"
        code = not norm.word_start and is_compound_identifier(lower)
        if code:
            forms.add("code")
        return TokenAnalysis(norm, lower, False, False, False, forms=frozenset(forms), code=code,
                             python=python)  # fmt: skip
    senses = lexicon.senses(lower)
    key = _key(lower, senses)
    if lower in FUNCTION_WORDS:
        forms.add("function")
        return TokenAnalysis(norm, lower, True, False, True, forms=frozenset(forms))
    forms |= {_MORPH[c] for c in word_classes(lower, senses, lexicon) if c in _MORPH}
    if key in NUMBER_WORDS or lower in NUMBER_WORDS:
        return TokenAnalysis(norm, key, True, True, False, forms=frozenset(forms))
    support, share = _support(lower, key, senses, lexicon)
    return TokenAnalysis(norm, key, True, False, False, support, share, frozenset(forms))


def _key(lower: str, senses: Any) -> str:
    for pos in ("n", "v", "a"):
        bases = senses.bases.get(pos)
        if bases:
            return str(bases[0])
    return lower


def _support(
    lower: str, key: str, senses: Any, lexicon: Any
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Per part of speech, the weighted synsets the word's leading senses reach."""
    names = {lower, key}
    support: dict[str, dict[str, float]] = {}
    totals: dict[str, int] = {}
    for pos in ("n", "v"):
        synsets = lexicon.synsets(lower, pos)
        if not synsets:
            continue
        leading, totals[pos] = _leading_senses(synsets, names, lexicon)
        weights: dict[str, float] = {}
        for synset, w in leading:
            for name in lexicon.up(synset):
                if weights.get(name, 0.0) < w:
                    weights[name] = w
            group = SUPERSENSE + synset.lexname()
            named = synset.lexname() not in NAMED_ONLY or bool(synset.instance_hypernyms())
            if synset.lexname() in SUPERSENSES and named and weights.get(group, 0.0) < w:
                weights[group] = w
        _add_derived(lexicon, synsets, weights)
        support[pos] = weights
    adjective, n_adjective = _adjective_support(lower, names, lexicon)
    if adjective:
        support["a"] = adjective
        totals["a"] = n_adjective
    total = sum(totals.values()) or 1
    return support, {pos: n / total for pos, n in totals.items()}


def _leading_senses(synsets: Any, names: set[str], lexicon: Any) -> tuple[list[Any], int]:
    """A word's leading senses with their weights, and its tagged count plus one.

    A sense at rank ``r`` with ``c`` tagged uses (of the word's own lemmas, ``names``) weighs
    ``(c + 1) / (top + 1) / (1 + 0.3 r)``; senses under :data:`MIN_SENSE_WEIGHT` are skipped
    and at most :data:`MAX_SENSES` are kept, as ``(synset, weight)`` pairs.
    """
    counts = lexicon.sense_counts()
    sense_counts = [
        sum(counts.get(lemma.key(), 0) for lemma in s.lemmas() if lemma.name().lower() in names)
        for s in synsets
    ]
    top = max(sense_counts)
    leading = []
    for rank, (synset, count) in enumerate(zip(synsets, sense_counts, strict=True)):
        w = (count + 1) / (top + 1) / (1 + 0.3 * rank)
        if w >= MIN_SENSE_WEIGHT:
            leading.append((synset, w))
            if len(leading) == MAX_SENSES:
                break
    return leading, sum(sense_counts) + 1


def _add_derived(lexicon: Any, synsets: Any, weights: dict[str, float]) -> None:
    """Add the other part of speech's synsets derivationally related to the kept senses.

    ``occurrence`` (noun) reaches ``happen.v.01``, ``lose`` (verb) reaches ``loss.n.01``: only
    the related synset itself, at :data:`DERIVED_WEIGHT` of the sense's weight.
    """
    for synset in synsets:
        w = weights.get(synset.name(), 0.0) * DERIVED_WEIGHT
        if w < MIN_SENSE_WEIGHT:
            continue
        for lemma in synset.lemmas():
            for other in lemma.derivationally_related_forms():
                target = other.synset()
                if target.pos() in ("n", "v") and target.pos() != synset.pos():
                    name = target.name()
                    if weights.get(name, 0.0) < w:
                        weights[name] = w


def _adjective_support(lower: str, names: set[str], lexicon: Any) -> tuple[dict[str, float], int]:
    """The adjective clusters (head synsets) and attributes a word's adjective senses reach.

    A satellite (``enormous.s.01``) supports its cluster's head (``large.a.01``); a head supports
    itself and the noun it is a value of (``size.n.01``), so ``large``, ``huge`` and ``small``
    meet at "size". An adverb supports the adjectives it pertains to (``hugely`` -> ``huge``).
    Senses are weighed by their tagged counts as in the nouns' and verbs' support.

    Returns:
        The support, and the tagged count of the senses plus one (the adjective share's weight).
    """
    synsets = [s for s in lexicon.synsets(lower) if s.pos() in ("a", "s")]
    if not synsets:
        for adverb in lexicon.synsets(lower, "r")[:2]:
            for lemma in adverb.lemmas():
                if lemma.name().lower() == lower:
                    synsets += [p.synset() for p in lemma.pertainyms()]
    if not synsets:
        return {}, 0
    leading, n_tagged = _leading_senses(synsets, names, lexicon)
    out: dict[str, float] = {}
    for synset, w in leading:
        heads = synset.similar_tos() if synset.pos() == "s" else [synset]
        targets = [t for head in heads[:1] for t in (head, *head.attributes())]
        for target in targets:
            if out.get(target.name(), 0.0) < w:
                out[target.name()] = w
        derived = w * DERIVED_WEIGHT
        for lemma in synset.lemmas():
            if lemma.name().lower() not in names or derived < MIN_SENSE_WEIGHT:
                continue
            for other in lemma.derivationally_related_forms() + lemma.pertainyms():
                name = other.synset().name()
                if other.synset().pos() == "n" and out.get(name, 0.0) < derived:
                    out[name] = derived
    return out, n_tagged
