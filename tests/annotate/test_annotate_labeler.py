"""ConceptLabeler: WordNet access, morphological classes, label choice, coverage."""

from __future__ import annotations

import pytest
from sklearn.exceptions import NotFittedError

from vocablens.annotate import ConceptLabeler, Label
from vocablens.annotate.labeler import GENERAL_SYNSETS
from vocablens.annotate.wordnet import LEXNAMES, Lexicon, open_wordnet


@pytest.fixture(scope="module")
def labeler():
    return ConceptLabeler().fit()


def test_wordnet_reader_on_the_local_database():
    wn = open_wordnet()
    assert wn.get_version() == "3.0"
    monday = wn.synset("monday.n.01")
    assert monday.lexname() == "noun.time"  # needs the lexnames table (Debian ships none)
    assert wn.synset("dog.n.01").lexname() == "noun.animal"
    assert "day_of_the_week.n.01" in {h.name() for h in monday.closure(lambda s: s.hypernyms())}
    assert len(LEXNAMES) == 45 and LEXNAMES[28] == "noun.time"


def test_general_synsets_exist():
    wn = open_wordnet()
    for name in GENERAL_SYNSETS:
        wn.synset(name)  # raises on a typo


def test_lexicon_base_forms():
    lex = Lexicon()
    assert lex.base_forms("went", "v") == ("go",)
    assert lex.base_forms("stopped", "v") == ("stop",)
    assert "hour" in lex.base_forms("hours", "n")  # "hours" is a lemma too; morphy stops there
    assert lex.base_forms("children", "n") == ("child",)
    assert lex.base_forms("red", "v") == ()


def test_sklearn_conventions():
    lab = ConceptLabeler(min_coverage=0.6)
    assert lab.min_coverage == 0.6 and not hasattr(lab, "lexicon_")  # no work in __init__
    with pytest.raises(NotFittedError):
        lab.label([" Monday"])
    assert lab.fit() is lab and hasattr(lab, "lexicon_") and lab.n_vocabulary_ == 0
    assert lab.fit([" cat", " dog"]).n_vocabulary_ == 2


WEEKDAYS = [" Monday", " Tuesday", " Wednesday", " Thursday", " Friday", " Saturday", " Sunday"]
NOISE = [" the", "ing", ",", " however"]


@pytest.mark.parametrize(
    ("tokens", "label", "kind", "supersense"),
    [
        ([*WEEKDAYS, "Monday", " friday", *NOISE], "day of the week", "wordnet", "noun.time"),
        ([" red", " blue", " green", " black", " white", " gray", "red", " orange", *NOISE],
         "color", "wordnet", "noun.attribute"),
        ([" Paris", " London", " Chicago", " Boston", " Madrid", " Tokyo", " Berlin", *NOISE],
         "city", "wordnet", "noun.location"),
        ([" walked", " went", " took", " asked", " played", " saw", " told", " gave", *NOISE],
         "past-tense verb", "morphological", None),
        ([" running", " eating", " walking", " singing", " reading", " cooking", *NOISE],
         "-ing form", "morphological", None),
        ([" books", " ideas", " rivers", " tables", " windows", " hours", " children", *NOISE],
         "plural noun", "morphological", None),
        ([",", ".", "!", "?", ";", ":", "),", '."', *NOISE], "punctuation", "token-kind", None),
        (["1", " 2", "3", " 10", "2019", " 100", "7", *NOISE], "number", "token-kind", None),
        ([" и", " в", " не", " на", "что", " он", " это", *NOISE],
         "Cyrillic script", "token-kind", None),
        (["的", "是", "在", "人", "我", "中", "国", *NOISE], "CJK script", "token-kind", None),
        (["</", "/>", "();", "=>", "{}", "->", " getElementById", ".append", *NOISE],
         "code or markup", "token-kind", None),
        ([" the", " of", " and", " in", " to", " with", " from", " by", *NOISE[1:]],
         "function word", "morphological", None),
    ],
)  # fmt: skip
def test_planted_labels(labeler, tokens, label, kind, supersense):
    result = labeler.label(tokens)
    assert (result.label, result.kind, result.supersense) == (label, kind, supersense), result
    assert result.confident
    explained = set(result.explained)
    assert result.coverage == pytest.approx(len(result.explained) / len(tokens))
    assert not explained & {" however", "ing"}  # noise is not explained


def test_coverage_counts_noise_and_variants(labeler):
    tokens = [" Monday", "Monday", " monday", " Sunday", ",", " the"]
    result = labeler.label(tokens)
    assert result.label == "day of the week"
    assert result.explained == (" Monday", "Monday", " monday", " Sunday")
    assert result.coverage == pytest.approx(4 / 6) and result.n_tokens == 6


def test_prefers_specific_over_general(labeler):
    # Concrete unrelated nouns share only 'whole', 'object', 'artifact' ...: never a confident
    # label from those; the winner is not one of the too-general synsets.
    result = labeler.label(
        [" table", " river", " idea", " engine", " spoon", " mountain", " cloud"]
    )
    assert result.synset not in GENERAL_SYNSETS or not result.confident
    assert not result.confident


def test_deepest_shared_hypernym(labeler):
    # Only weekdays Monday..Friday: "weekday" covers all of them and is deeper.
    result = labeler.label([" Monday", " Tuesday", " Wednesday", " Thursday", " Friday"])
    assert result.label == "weekday" and result.coverage == 1.0
    assert [name for name, _ in result.alternatives][:1] == ["day of the week"]


def test_no_label_for_nothing(labeler):
    assert labeler.label([]).kind == "none"
    result = labeler.label(["mp3", "x86"])  # kind "other": no class, no WordNet entry
    assert isinstance(result, Label) and result.kind == "none" and not result.confident
    pieces = labeler.label(["zxq", "qqv", "ation"])  # unknown pieces are a token kind
    assert pieces.label == "word piece" and pieces.kind == "token-kind"


def test_transform_returns_one_row_per_list(labeler):
    frame = labeler.transform([WEEKDAYS, [",", ".", "!"]])
    assert list(frame["label"]) == ["day of the week", "punctuation"]
    assert set(frame.columns) >= {
        "label",
        "supersense",
        "coverage",
        "explained_tokens",
        "confident",
    }
    assert frame["explained_tokens"][1] == ",|.|!"


def test_missing_wordnet_is_a_one_line_error(monkeypatch, tmp_path):
    from vocablens import VocabLensError
    from vocablens.annotate.wordnet import WordNetNotFoundError, find_wordnet_dir

    monkeypatch.setenv("VOCABLENS_WORDNET", str(tmp_path))
    with pytest.raises(WordNetNotFoundError, match=r"no WordNet data\.noun") as info:
        find_wordnet_dir()
    assert isinstance(info.value, VocabLensError) and "\n" not in str(info.value)
