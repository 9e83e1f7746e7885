"""Token normalization and token kinds (no lexicon involved)."""

from __future__ import annotations

import pytest

from vocablens.annotate.normalize import KINDS, normalize_token


@pytest.mark.parametrize(
    ("raw", "text", "word_start", "kind", "case"),
    [
        (" Paris", "Paris", True, "word", "title"),
        ("ĠParis", "Paris", True, "word", "title"),
        ("▁the", "the", True, "word", "lower"),
        ("ing", "ing", False, "piece", "lower"),
        ("##ing", "ing", False, "piece", "lower"),
        (" MONDAY", "MONDAY", True, "word", "upper"),
        (" don't", "don't", True, "word", "lower"),
        (" well-known", "well-known", True, "word", "lower"),
        (" 1,000", "1,000", True, "number", "none"),
        ("3rd", "3rd", False, "number", "lower"),
        ("...", "...", False, "punctuation", "none"),
        (" —", "—", True, "punctuation", "none"),
        (";", ";", False, "punctuation", "none"),
        ("😀", "😀", False, "symbol", "none"),
        ("\\n", "", True, "whitespace", "none"),
        ("Ċ", "", True, "whitespace", "none"),
        ("   ", "", True, "whitespace", "none"),
        ("</div>", "</div>", False, "code", "lower"),
        (" getElementById", "getElementById", True, "code", "mixed"),
        ("__init__", "__init__", False, "code", "lower"),
        (".append", ".append", False, "code", "lower"),
        (" href=", "href=", True, "code", "lower"),
        ("=>", "=>", False, "code", "none"),
        ("⟨0x0A⟩", "⟨0x0A⟩", False, "byte", "mixed"),
        ("\ufffd", "\ufffd", False, "byte", "none"),
        ("<|endoftext|>", "<|endoftext|>", False, "special", "lower"),
        ("mp3", "mp3", False, "other", "lower"),
    ],
)
def test_normalize(raw, text, word_start, kind, case):
    token = normalize_token(raw)
    assert (token.text, token.word_start, token.kind, token.case) == (text, word_start, kind, case)
    assert token.kind in KINDS
    assert token.lower == text.lower()


@pytest.mark.parametrize(
    ("raw", "script"),
    [(" и", "Cyrillic"), ("日本", "CJK"), ("カタ", "Japanese kana"), ("한국", "Korean Hangul"),
     (" Αθήνα", "Greek"), ("مرحبا", "Arabic"), (" café", "Latin")],
)  # fmt: skip
def test_scripts(raw, script):
    token = normalize_token(raw)
    assert token.script == script
    assert token.kind == ("word" if script == "Latin" else "script")


def test_is_alpha_only_for_latin_words_and_pieces():
    assert normalize_token(" cat").is_alpha and normalize_token("cat").is_alpha
    assert not normalize_token(" кот").is_alpha and not normalize_token(" 7").is_alpha
