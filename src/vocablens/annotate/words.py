"""Which tokens are words: a lexicon of WordNet lemmas and wordfreq's English word list.

A token's letters are a **word** when they are a WordNet lemma (or an inflection of one, found by
WordNet's own rules) that wordfreq has seen at least as often as ``min_zipf`` (Zipf scale:
3 = once per million words), or a closed-class word (:data:`FUNCTION_WORDS`). Both sources are
needed: WordNet holds rare abbreviations that BPE pieces collide with (``ar``, ``ch``), and
wordfreq's list, counted on web text, holds frequent BPE fragments (``ing``, ``ment``). So
``␣strugg`` (in neither) and ``␣collab`` (wordfreq only) are **pieces**; ``␣college`` is a word.
Letters of one or two characters are words only when they are function words.

**Numbers**: digits (``4``, ``1,000``, ``3rd``), cardinal and ordinal number words
(:data:`NUMBER_WORDS`: ``four``, ``Fourth``, ``millions``) are the semantic concept "number";
their WordNet senses ("playing card", "spot") are not used.

**Variant key**: case, leading space and inflection variants of one word share a key, the first
WordNet base form (noun, then verb, then adjective) of the lower-cased word: ``␣Review``,
``review``, ``␣reviewing`` all have the key ``review``. Pieces keep their lower-cased letters.
"""

from __future__ import annotations

from functools import lru_cache

#: Cardinal and ordinal number words (their plurals reduce to these by the variant key).
_NUMBER_WORDS_TEXT = """
    zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
    hundred thousand million billion trillion dozen first second third fourth fifth sixth seventh
    eighth ninth tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth
    eighteenth nineteenth twentieth thirtieth fortieth fiftieth hundredth thousandth millionth
    billionth twice thrice single double triple quadruple half
"""
NUMBER_WORDS = frozenset(_NUMBER_WORDS_TEXT.split())

#: Closed-class English words: words, but never the bearers of a concept.
_FUNCTION_WORDS_TEXT = """
    a an the this that these those some any no every each either neither all both several
    many much more most few fewer less least other another such what which whose i me my mine
    myself you your yours yourself yourselves he him his himself she her hers herself it its
    itself we us our ours ourselves they them their theirs themselves who whom ones someone
    anyone everyone nobody somebody anybody everybody something anything everything nothing of
    in on at by for with about against between into through during before after above below to
    from up down out off over under again further than via per upon onto toward towards within
    without among amongst across along around behind beside besides beyond near past since till
    until unto despite except inside outside throughout and or but nor so yet because although
    though while whereas if unless whether as once be am is are was were been being have has had
    having do does did doing done will would shall should can could may might must ought not n't
    's 're 've 'll 'd 'm then there here when where why how also just only very too even still
    already ever never always often quite rather else thee thou aren weren isn wasn don doesn
    didn shouldn couldn wouldn won hasn haven hadn mustn
"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())


@lru_cache(maxsize=1)
def _zipf_table() -> dict[str, float]:
    """Wordfreq's English Zipf frequencies of its word list (read once)."""
    import math

    from wordfreq import get_frequency_dict

    return {
        word: math.log10(freq) + 9.0
        for word, freq in get_frequency_dict("en", wordlist="best").items()
        if freq > 0
    }


def zipf(word: str) -> float:
    """Wordfreq's Zipf frequency of a lower-cased word (0 when unseen)."""
    return _zipf_table().get(word, 0.0)


#: Closed-class categories: what a list of function words means (a pronoun list, modal verbs).
#: A word may sit in two categories (``before``: a preposition and a conjunction).
_CLOSED_CLASSES_TEXT = {
    "personal pronoun": """i me my mine myself you your yours yourself yourselves he him his
        himself she her hers herself it its itself we us our ours ourselves they them their
        theirs themselves thee thou thy ye""",
    "conjunction or connective": """and or but nor so yet because although though while whereas
        if unless whether since when whenever before after as than once until also likewise
        similarly besides moreover furthermore however otherwise therefore thus hence
        nonetheless nevertheless meanwhile""",
    "preposition": """of in on at by for with about against between into through during before
        after above below to from up down out off over under via per upon onto toward towards
        within without among amongst across along around behind beside besides beyond near past
        since till until unto despite except inside outside throughout beneath""",
    "quantifier or determiner": """a an the this that these those some any no every each either
        neither all both several many much more most few fewer less least other another such
        single whole enough""",
    "modal verb (possibility)": """can could may might must shall should will would ought
        perhaps maybe possibly probably likely unlikely""",
    "auxiliary verb": """be am is are was were been being have has had having do does did doing
        done hath aren weren isn wasn don doesn didn haven hasn hadn""",
}
CLOSED_CLASSES = {name: frozenset(words.split()) for name, words in _CLOSED_CLASSES_TEXT.items()}
