"""Curated word lists for the planted-concept evaluation of the annotator (tests and benchmark).

Each :class:`Concept` has base words, the labels that count as *correct* for it (a label name, a
WordNet synset name, or ``"supersense:<lexname>"`` for any label of that supersense), and a
*group*: two concepts of different groups are unrelated, so their mixture must be flagged
polysemantic. :func:`planted_set` builds token lists as a GPT-2 / SmolLM2 tokenizer would show them
(``" Monday"``, ``"Monday"``, ``" monday"``) with a fraction of noise tokens mixed in.

Usage (pytest puts ``tests/`` on ``sys.path``; the benchmark adds it)::

    from concept_lists import CONCEPTS, planted_set
    cases = planted_set(seed=0, n_single=2, n_mixed=40)
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Concept:
    """A planted concept.

    Attributes:
        name: short id (``"weekdays"``).
        words: base words (surface forms; case matters only for ``cased`` concepts).
        accept: labels that count as correct: label names, synset names, ``supersense:...``.
        group: concepts of different groups are unrelated (mixtures of them are polysemantic).
        variants: how tokens are formed: ``"word"`` (``" w"``, ``"w"``, ``" W"``/``" w"`` case
            variants), ``"cased"`` (keeps the given case: ``" Paris"``, ``"Paris"``, ``" PARIS"``),
            ``"exact"`` (tokens as given, plus a leading-space variant where it makes sense).
    """

    name: str
    words: tuple[str, ...]
    accept: frozenset[str]
    group: str
    variants: str = "word"


def _c(name: str, words: str, accept: str, group: str, variants: str = "word") -> Concept:
    return Concept(name, tuple(words.split()), frozenset(accept.split("|")), group, variants)


CONCEPTS: tuple[Concept, ...] = (
    _c("weekdays", "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
       "day of the week|weekday|calendar day|day", "time", "cased"),
    _c("months", "January February March April May June July August September October November "
       "December", "month|calendar month|Gregorian calendar month", "time", "cased"),
    _c("colors", "red blue green yellow orange purple pink brown black white gray violet crimson "
       "scarlet turquoise magenta beige maroon", "color|chromatic color|achromatic color",
       "attribute"),
    _c("cities", "Paris London Berlin Tokyo Madrid Rome Moscow Chicago Boston Sydney Toronto "
       "Vienna Dublin Athens Cairo Seattle Houston Denver Prague Warsaw Amsterdam Beijing",
       "city|national capital|capital|municipality|urban area|port|metropolis", "place", "cased"),
    _c("countries", "France Germany Spain Italy Japan China India Brazil Canada Mexico Russia "
       "Egypt Kenya Peru Chile Norway Sweden Poland Greece Iran Vietnam Argentina Australia",
       "country|state|nation|European country|Asian country|African country|"
       "South American country|European nation|Asian nation|African nation|"
       "South American nation", "place", "cased"),
    _c("animals", "dog cat horse cow pig sheep goat lion tiger bear wolf fox rabbit mouse deer "
       "elephant monkey zebra giraffe camel donkey squirrel otter leopard",
       "animal|mammal|placental|vertebrate|chordate|carnivore|ungulate|even-toed ungulate|"
       "mammalian|craniate|beast|animate being|fauna", "living"),
    _c("fruits", "apple banana orange grape pear peach cherry lemon lime mango plum apricot melon "
       "strawberry raspberry blueberry pineapple kiwi fig coconut papaya",
       "edible fruit|fruit|produce|berry|drupe|fruit tree|pome|citrus", "food"),
    _c("body parts", "hand arm leg foot head eye ear nose mouth finger toe knee elbow shoulder "
       "neck chest stomach hip wrist ankle chin lip tongue tooth",
       "body part|external body part|extremity|limb|organ|supersense:noun.body", "body"),
    _c("number words", "one two three four five six seven eight nine ten eleven twelve twenty "
       "thirty forty fifty hundred thousand million",
       "digit|integer|number|large integer|numeral|cardinal number|definite quantity|"
       "supersense:noun.quantity", "quantity"),
    _c("professions", "doctor teacher lawyer engineer nurse farmer pilot chef soldier dentist "
       "architect plumber carpenter baker banker scientist journalist actor singer writer painter "
       "surgeon mechanic electrician accountant",
       "person|professional|worker|skilled worker|expert|creator|adult|"
       "supersense:noun.person", "person"),
    _c("vehicles", "car truck bus bicycle train plane boat ship motorcycle van taxi tractor "
       "scooter helicopter jeep tram yacht canoe ferry wagon sedan",
       "vehicle|conveyance|craft|motor vehicle|wheeled vehicle|self-propelled vehicle|"
       "transport|vessel|public transport", "artifact"),
    _c("emotions", "anger fear joy sadness love hate happiness anxiety grief pride shame guilt "
       "envy jealousy disgust surprise hope despair rage sorrow delight panic",
       "feeling|emotion|supersense:noun.feeling", "feeling"),
    _c("instruments", "piano guitar violin drum flute trumpet cello harp saxophone clarinet "
       "trombone banjo organ oboe accordion harmonica tuba mandolin ukulele bagpipe",
       "musical instrument|instrument|stringed instrument|wind instrument|"
       "keyboard instrument|percussion instrument", "artifact"),
    _c("sports", "football soccer tennis golf baseball basketball hockey cricket rugby "
       "volleyball boxing wrestling skiing cycling badminton lacrosse polo archery fencing",
       "sport|athletic game|game|field game|ball game|outdoor game|contact sport|"
       "supersense:noun.act", "activity"),
    _c("metals", "iron copper gold silver zinc lead tin nickel aluminum platinum titanium "
       "mercury cobalt chromium tungsten uranium magnesium lithium sodium calcium",
       "metallic element|metal|chemical element|element|noble metal|"
       "supersense:noun.substance", "substance"),
    _c("past-tense verbs", "walked talked jumped played wanted started looked asked worked called "
       "moved tried went took saw came gave made found told thought ran wrote ate began",
       "past-tense verb", "verb-form"),
    _c("-ing verbs", "walking talking running playing eating reading writing singing swimming "
       "cooking thinking looking making taking going coming sleeping driving working jumping",
       "-ing form", "verb-form"),
    _c("plurals", "books ideas problems rivers songs tables windows students questions streets "
       "hours papers games stories boxes rules pictures cups results plans rooms lines",
       "plural noun", "noun-form"),
    _c("punctuation", ", . ! ? ; : ( ) \" ' - ... ), .\" !\" ?) -- — [ ] ,\" .)",
       "punctuation", "punct", "exact"),
    _c("digits", "0 1 2 3 4 5 6 7 8 9 10 12 15 20 25 50 100 1000 1990 2019 2020 2021 300 64",
       "number", "digits", "exact"),
    _c("Cyrillic", "и в не на что он я с это как по но из у за Россия она мы вы",
       "Cyrillic script", "cyrillic", "exact"),
    _c("CJK", "的 是 在 人 我 中 国 日本 大 有 不 了 这 上 们 年 和 为 会 子",
       "CJK script", "cjk", "exact"),
    _c("code", "</ /> (); => {} -> :: == != && || ++ getElementById innerHTML __init__ .get "
       ".append console.log </div> <div href= {\\n $( ){",
       "code or markup", "code", "exact"),
)  # fmt: skip

#: Held-out concepts: written down before the annotator was run on them and never used to tune
#: it (the benchmark reports them separately: a check that the rules generalize beyond the
#: concepts above).
HELD_OUT: tuple[Concept, ...] = (
    _c("birds", "sparrow eagle owl pigeon crow robin hawk parrot swan duck goose penguin ostrich "
       "falcon heron vulture finch seagull pelican flamingo",
       "bird|passerine|oscine|bird of prey|aquatic bird|waterfowl|wading bird|seabird", "bird"),
    _c("drinks", "tea coffee juice milk water wine beer soda lemonade whiskey vodka cocoa cider "
       "champagne brandy rum gin lager espresso",
       "beverage|drink|alcohol|alcoholic beverage|liquor|supersense:noun.food", "drink"),
    _c("clothing", "shirt jacket coat dress skirt trousers sweater hat scarf glove sock shoe boot "
       "jeans blouse vest hoodie pajamas uniform",
       "clothing|garment|apparel|wear|article of clothing|footwear|attire", "clothing"),
    _c("furniture", "chair table sofa bed desk shelf cabinet bench stool couch wardrobe dresser "
       "bookcase armchair ottoman cupboard",
       "furniture|furnishing|seat|piece of furniture|article of furniture", "furniture"),
    _c("planets", "Mercury Venus Earth Mars Jupiter Saturn Uranus Neptune Pluto",
       "planet|terrestrial planet|gas giant|superior planet|inferior planet|celestial body|"
       "supersense:noun.object", "planet", "cased"),
    _c("family", "mother father sister brother aunt uncle cousin grandmother grandfather daughter "
       "son niece nephew wife husband grandson granddaughter",
       "relative|kin|family|female relative|male relative|kinsman|parent|"
       "supersense:noun.person", "family"),
    _c("tools", "hammer screwdriver wrench saw drill pliers chisel axe shovel rake hoe scissors "
       "knife file clamp trowel", "tool|hand tool|implement|edge tool|cutter|cutting implement",
       "tool"),
    _c("weather", "rain snow wind storm fog hail thunder lightning sleet drizzle frost mist breeze "
       "hurricane tornado blizzard",
       "weather|atmospheric phenomenon|precipitation|storm|wind|physical phenomenon|"
       "supersense:noun.phenomenon", "weather"),
    _c("-ly adverbs", "quickly slowly carefully quietly loudly happily sadly easily rarely gently "
       "badly suddenly finally nearly really", "-ly adverb", "adverb"),
    _c("comparatives", "bigger smaller faster slower older younger taller shorter higher lower "
       "larger stronger better worse harder", "comparative or superlative adjective", "degree"),
    _c("languages", "English French German Spanish Italian Russian Chinese Japanese Arabic "
       "Portuguese Hindi Korean Dutch Greek Swedish Turkish",
       "language|natural language|Romance|Romance language|Germanic language|"
       "Indo-European language|West Germanic|supersense:noun.communication", "language",
       "cased"),
)  # fmt: skip

#: Generic noise tokens (none belongs to a planted concept): common words, pieces, odd tokens.
_NOISE_WORDS = """the of and which however said system between government although during information
    another include process rather development important without become public often level
    service itself form example data report point order thus support several case result
    local provide whether least research general based per policy within change according
    model control value needs early action version issue upon across particular toward via
    hence note figure quite basis simply certain effect type review design office section
    access"""
_NOISE_PIECES = "ing ed ation ment ly er pre un ity ness ize ous"
NOISE = tuple([" " + w for w in _NOISE_WORDS.split()] + _NOISE_PIECES.split())


def variants(concept: Concept, word: str) -> list[str]:
    """The token strings a GPT-2 / SmolLM2 tokenizer could show for ``word``."""
    if concept.variants == "exact":
        if word[0].isalnum() and concept.name not in ("CJK",):
            return [word, " " + word]
        return [word]
    if concept.variants == "cased":
        return [" " + word, word, " " + word.lower(), " " + word.upper()]
    return [" " + word, word, " " + word.capitalize()]


@dataclass(frozen=True)
class Case:
    """One planted token list.

    Attributes:
        tokens: the token strings, shuffled.
        concepts: the planted concept(s): one for a single-concept list, two for a mixture.
        polysemantic: whether it is a mixture of two unrelated concepts.
        n_noise: how many noise tokens were mixed in.
    """

    tokens: tuple[str, ...]
    concepts: tuple[Concept, ...]
    polysemantic: bool
    n_noise: int


def _draw(
    rng: random.Random, concept: Concept, k: int, vocabulary: frozenset[str] | None
) -> list[str]:
    """Up to ``k`` distinct tokens of ``concept``.

    One form of every word first (mostly the canonical ``" Word"``), then further variants of the words, round by round.
    """
    words = list(concept.words)
    rng.shuffle(words)
    orders = []
    for word in words:
        forms = variants(concept, word)
        if vocabulary is not None:
            forms = [f for f in forms if f in vocabulary]
        if not forms:
            continue
        first = forms[0] if rng.random() < 0.6 else rng.choice(forms)
        rest = [f for f in forms if f != first]
        rng.shuffle(rest)
        orders.append([first, *rest])
    out: list[str] = []
    for round_ in range(max((len(o) for o in orders), default=0)):
        for order in orders:
            if round_ < len(order) and order[round_] not in out:
                out.append(order[round_])
                if len(out) == k:
                    return out
    return out


def planted_set(
    seed: int = 0,
    n_single: int = 2,
    n_mixed: int = 40,
    n_tokens: int = 30,
    noise: float = 0.2,
    noise_tokens: Sequence[str] | None = None,
    vocabulary: Collection[str] | None = None,
    min_tokens: int = 8,
    concepts: Sequence[Concept] = CONCEPTS,
) -> list[Case]:
    """A deterministic planted-concept set.

    Args:
        seed: random seed.
        n_single: single-concept lists per concept.
        n_mixed: mixtures of two concepts from different groups (the concepts are drawn at random).
        n_tokens: tokens per list.
        noise: fraction of noise tokens mixed into every list.
        noise_tokens: the noise pool (default :data:`NOISE`; the real-model test uses random
            vocabulary tokens).
        vocabulary: only use token strings in this set (e.g. the single tokens of a tokenizer);
            a concept with fewer than ``min_tokens`` such tokens is skipped, one with fewer than
            needed gives shorter lists (the noise fraction is kept).
        min_tokens: see ``vocabulary``.
        concepts: the concepts to plant (:data:`CONCEPTS`, or :data:`HELD_OUT`).

    Returns:
        The cases, single-concept ones first.
    """
    rng = random.Random(seed)
    pool = list(NOISE if noise_tokens is None else noise_tokens)
    vocab = None if vocabulary is None else frozenset(vocabulary)
    concepts = [
        c
        for c in concepts
        if vocab is None or len({f for w in c.words for f in variants(c, w)} & vocab) >= min_tokens
    ]
    n_concept = n_tokens - round(noise * n_tokens)

    def finish(toks: list[str], concepts: tuple[Concept, ...]) -> Case:
        n_noise = round(len(toks) * noise / (1 - noise))
        toks = toks + rng.sample([t for t in pool if t not in toks], n_noise)
        rng.shuffle(toks)
        return Case(tuple(toks), concepts, len(concepts) > 1, n_noise)

    cases = []
    for concept in concepts:
        for _ in range(n_single):
            cases.append(finish(_draw(rng, concept, n_concept, vocab), (concept,)))
    for _ in range(n_mixed):
        a = rng.choice(concepts)
        b = rng.choice([c for c in concepts if c.group != a.group])
        half = n_concept // 2
        toks_a = _draw(rng, a, half, vocab)
        toks_b = _draw(rng, b, n_concept - half, vocab)
        k = min(len(toks_a), len(toks_b))  # balanced halves even when one concept is short
        cases.append(finish(toks_a[:k] + toks_b[:k], (a, b)))
    return cases


def is_correct(label: str, synset: str | None, supersense: str | None, concept: Concept) -> bool:
    """Whether a label counts as correct for ``concept`` (see :attr:`Concept.accept`)."""
    if label in concept.accept or (synset is not None and synset in concept.accept):
        return True
    return supersense is not None and f"supersense:{supersense}" in concept.accept


def prf(truth: list[bool], pred: list[bool]) -> tuple[float, float, float]:
    """Precision, recall and F1 of boolean predictions ``pred`` against ``truth``."""
    tp = sum(t and p for t, p in zip(truth, pred, strict=True))
    fp = sum(p and not t for t, p in zip(truth, pred, strict=True))
    fn = sum(t and not p for t, p in zip(truth, pred, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, 2 * precision * recall / (precision + recall or 1)
