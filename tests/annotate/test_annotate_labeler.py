"""ConceptLabeler: WordNet access, the lexicon, each labelling rule (meaning, form, groups)."""

from __future__ import annotations

import pytest
from sklearn.exceptions import NotFittedError

from vocablens.annotate import ConceptLabeler
from vocablens.annotate.candidates import GENERAL_SYNSETS
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
NOISE = [" strugg", "ing", ",", " affili", " however", "ynam", " collab"]


def test_pieces_are_not_words(labeler):
    # a leading space and letters is not a word: the lexicon (WordNet + wordfreq) decides
    assert not labeler.analyse(" strugg").word and "start" in labeler.analyse(" strugg").forms
    assert "piece" in labeler.analyse("ment").forms  # inside a word, not its start
    assert not labeler.analyse(" collab").word  # in wordfreq's list, not in WordNet
    assert not labeler.analyse("ment").word  # a frequent fragment, no word
    assert labeler.analyse(" college").word and labeler.analyse("␣college").word
    assert labeler.analyse(" the").function
    result = labeler.label([" strugg", " affili", " collab", " enthus", " dissemin", " miscon"])
    assert (
        result.kind == "form" and result.form == "word starts (fragments)" and not result.semantic
    )


def test_information_content(labeler):
    assert labeler.ic("entity.n.01") == 0.0
    assert labeler.ic("day_of_the_week.n.01") > labeler.ic("time_period.n.01") > 0.3
    assert labeler.ic("artifact.n.01") < labeler.min_ic  # never a label


def test_variants_merge_before_scoring(labeler):
    tokens = [" review", " Review", "reviewing", " reviews", "Reviews", *NOISE]
    a = labeler.analyse(" Review")
    assert a.key == labeler.analyse("reviewing").key == labeler.analyse(" reviews").key
    result = labeler.label(tokens)
    # one word in five variants: a word-family concept, counted as one word
    assert result.semantic and result.label == "review" and result.groups[0].n_words == 1
    assert set(result.explained) == set(tokens[:5])
    weekdays = labeler.label([" Monday", "Monday", " monday", " Sunday", " Friday", ",", " the"])
    assert weekdays.semantic and weekdays.groups[0].n_words == 3  # Monday x3 is one word
    assert len(weekdays.explained) == 5


def test_rank_weighted_coverage(labeler):
    top = labeler.label([" four", " five", " six", " seven", " eight", *NOISE, *NOISE])
    tail = labeler.label([*NOISE, *NOISE, " four", " five", " six", " seven", " eight"])
    assert top.label == tail.label == "number"
    assert top.coverage > 2 * tail.coverage


def test_numbers_are_numbers(labeler):
    result = labeler.label([" four", "Four", " Fourth", " five", " 3", "six", " seven", *NOISE])
    assert (result.label, result.kind, result.supersense) == ("number", "semantic", "number")
    assert result.synset is None and result.confident  # not "playing card" or "spot"


def test_noun_senses_for_noun_lists(labeler):
    result = labeler.label([" water", " power", " heating", " electricity", " gas", " fuel",
                            " oil", " energy", *NOISE])  # fmt: skip
    assert result.synset is None or ".n." in result.synset  # never the verb "give"


def test_no_concept_when_nothing_covers_enough(labeler):
    assert labeler.label([]).kind == "none"
    result = labeler.label([" table", " river", " idea", " engine", " spoon", " mountain",
                            " cloud", *NOISE, *NOISE])  # fmt: skip
    assert not result.semantic  # only general synsets (artifact, object) are shared
    assert result.synset not in GENERAL_SYNSETS or not result.confident


def test_form_is_separate_from_meaning(labeler):
    plurals = labeler.label([" books", " ideas", " rivers", " tables", " windows", " hours",
                             " children", *NOISE[:2]])  # fmt: skip
    assert (plurals.kind, plurals.form) == ("form", "plural nouns") and not plurals.semantic
    foods = labeler.label([" apples", " bananas", " carrots", " potatoes", " cherries",
                           " onions", " grapes", *NOISE[:2]])  # fmt: skip
    assert foods.semantic and foods.form == "plural nouns"  # the meaning is the label
    assert "plural" not in foods.label
    days = labeler.label([*WEEKDAYS, *NOISE])
    assert days.semantic and days.label in ("day of the week", "weekday")
    assert days.form == "capitalized words"


def test_closed_classes_have_meanings(labeler):
    result = labeler.label([" he", " his", " she", " her", " they", " them", " him", *NOISE])
    assert result.semantic and result.label == "personal pronoun"
    assert result.form == "function words"


def test_polysemantic_only_between_meanings(labeler):
    mixed = labeler.label([" Monday", " red", " Tuesday", " blue", " Friday", " green",
                           " Sunday", " yellow", " Saturday", " purple", *NOISE])  # fmt: skip
    assert mixed.polysemantic and len(mixed.groups) == 2
    assert {g.label for g in mixed.groups} >= {"chromatic color"} or len(mixed.groups) == 2
    forms = labeler.label([" books", " Strugg", " rivers", " Affili", " tables", " Collab",
                           " windows", " Enthus", *NOISE])  # fmt: skip
    assert not forms.polysemantic  # plural nouns and capitalized pieces are forms, not meanings


def test_transform_returns_one_row_per_list(labeler):
    frame = labeler.transform([WEEKDAYS, [",", ".", "!"]])
    assert list(frame["label_kind"]) == ["semantic", "form"]
    assert frame["label"][1] == "punctuation" and frame["form"][1] == "punctuation"
    assert set(frame.columns) >= {"label", "supersense", "coverage", "explained_tokens",
                                  "confident", "form", "form_coverage", "polysemantic"}  # fmt: skip


def test_missing_wordnet_is_a_one_line_error(monkeypatch, tmp_path):
    from vocablens import VocabLensError
    from vocablens.annotate.wordnet import WordNetNotFoundError, find_wordnet_dir

    monkeypatch.setenv("VOCABLENS_WORDNET", str(tmp_path))
    with pytest.raises(WordNetNotFoundError, match=r"no WordNet data\.noun") as info:
        find_wordnet_dir()
    assert isinstance(info.value, VocabLensError) and "\n" not in str(info.value)


def test_form_is_the_class_that_stands_out(labeler):
    # a raw top-30 is half word pieces anyway (FORM_BASE): 4 closing quotes out of 10 say more
    tokens = ['")', "ment", '",', "ulous", "'),", "ition", '"]', "aneous", "ctions", "ively"]
    label = labeler.label(tokens, readout="raw")
    assert (label.form, label.form_readout) == ("punctuation", "raw")
    assert labeler.label(["ment", "ulous", "ition", "aneous", "ctions"], readout="raw").form == (
        "word pieces (fragments)"  # nothing but pieces: that stands out too
    )
    plain = [" table", " happy", " river", " house", " seven", " green", " bread", " music"]
    assert labeler.label(plain).form == ""  # no class above its share of a random list


def test_form_may_come_from_the_raw_list(labeler):
    days = [" Monday", " Tuesday", " Wednesday", " Thursday", " Friday", " Saturday", " Sunday"]
    starts = [" strugg", " affili", " collab", " enthus", " dissemin", " miscon", " advoc"]
    label = labeler.label(days, raw=starts)
    assert label.label == "day of the week" and label.semantic  # the meaning: the cosine list
    assert (label.form, label.form_readout) == ("word starts (fragments)", "raw")
    assert labeler.label(starts, raw=days).semantic is False  # never the meaning of raw


def test_python_names_on_the_raw_list_are_programming_code(labeler):
    assert labeler.analyse(" pathlib").python and labeler.analyse("setattr").python
    assert labeler.analyse("linspace").python  # numpy's names come from numpy itself
    assert not labeler.analyse(" open").python  # a word of the lexicon first
    assert not labeler.analyse("Set").python and not labeler.analyse(" dis").python
    for name in (" OrderedDict", "splitext", " makedirs", " metavar", " nargs", "unsqueeze"):
        assert labeler.analyse(name).python, name  # os, collections, argparse, torch ...
    for name in (" deepcopy", " linestyle", "xlim", " inplace", "keepdims", " tempfile"):
        assert labeler.analyse(name).python, name  # copy, Axes' setters, method parameters
    names = [" hashlib", " strugg", " shutil", " functools", " affili", " tempfile", " collab"]
    plain = [" table", " happy", " river", " house", " seven", " green", " bread", " music"]
    code = labeler.label(plain, raw=names)
    assert (code.label, code.semantic) == ("programming code", True)
    assert code.explained == (" hashlib", " shutil", " functools", " tempfile")  # raw tokens
    assert not labeler.label(plain, raw=names[:5]).semantic  # three names are not enough
    assert not labeler.label(names).semantic  # Python names count on the raw readout only
    assert labeler.label(names, readout="raw").label == "programming code"
    days = [" Monday", " Tuesday", " Wednesday", " Thursday", " Friday", " Saturday", " Sunday"]
    both = labeler.label(days + plain, raw=names)
    assert both.polysemantic and [g.label for g in both.groups] == [
        "day of the week",
        "programming code",
    ]
    three = labeler.label(days + plain, raw=names[:5])  # enough for a second meaning
    assert three.polysemantic and [g.label for g in three.groups][1] == "programming code"
    two = labeler.label(days + plain, raw=names[:3])
    assert two.semantic and not two.polysemantic
