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
#: Prepositions and auxiliary verbs are not among them: they are grammar, not meaning, so a
#: list of them gets the form "function words" and no semantic label. On the judged sets, the
#: cards labelled "preposition" were read as form 47 times, as a meaning 28 (13 of them
#: accepting "preposition") and as none 9; what prepositions mean is in
#: :data:`MEANING_CLASSES` (time order, spatial position).
_CLOSED_CLASSES_TEXT = {
    "personal pronoun": """i me my mine myself you your yours yourself yourselves he him his
        himself she her hers herself it its itself we us our ours ourselves they them their
        theirs themselves thee thou thy ye""",
    "conjunction or connective": """and or but nor so yet because although though while whereas
        if unless whether since when whenever before after as than once until also likewise
        similarly besides moreover furthermore however otherwise therefore thus hence
        nonetheless nevertheless meanwhile""",
    "quantifier or determiner": """a an the this that these those some any no every each either
        neither all both several many much more most few fewer less least other another such
        single whole enough""",
    "modal verb (possibility)": """can could may might must shall should will would ought
        perhaps maybe possibly probably likely unlikely""",
    "indefinite pronoun": """someone anyone everyone nobody somebody anybody everybody something
        anything everything nothing""",
    "question word": """what which who whom whose where why how""",
}
CLOSED_CLASSES = {name: frozenset(words.split()) for name, words in _CLOSED_CLASSES_TEXT.items()}

#: What connectives and sentence adverbs *mean* (the top senses of the Penn Discourse Treebank's
#: connective hierarchy: temporal, comparison, contingency, expansion) and a few adverb classes
#: of the same kind (frequency, possibility, spatial position), and the compass directions
#: (WordNet's leading senses of ``north`` and ``south`` are regions, so they would read as
#: "places"). Unlike :data:`CLOSED_CLASSES` these are semantic labels: ``before, after, during,
#: until`` are "time order" whatever their part of speech. Keys are variant keys (base forms:
#: ``higher`` -> ``high``).
_MEANING_CLASSES_TEXT = {
    "time order": """before after during while when whenever since until till once then later
        earlier afterwards afterward previously subsequently meanwhile following prior eventually
        finally initially formerly beforehand soon""",
    "addition": """also likewise similarly besides moreover furthermore additionally too plus
        again further""",
    "contrast": """but however although though whereas yet still nevertheless nonetheless
        instead rather conversely despite regardless anyway""",
    "alternative": """or otherwise alternatively either neither nor else instead""",
    "cause and condition": """because since therefore thus hence consequently so accordingly
        if unless provided whether""",
    "frequency": """usually normally typically often always never sometimes rarely seldom
        frequently occasionally generally commonly regularly routinely habitually constantly
        oftentimes""",
    "possibility": """perhaps maybe possibly probably likely unlikely presumably apparently
        seemingly might may could possible probable certainly doubtless surely""",
    "spatial position": """above below under over beneath underneath high low top bottom upper
        lower inside outside between within beyond behind beside near""",
    "compass direction": """north south east west northeast northwest southeast southwest
        northern southern eastern western northeastern northwestern southeastern southwestern
        northward southward eastward westward northerly southerly easterly westerly""",
}
MEANING_CLASSES = {name: frozenset(words.split()) for name, words in _MEANING_CLASSES_TEXT.items()}
