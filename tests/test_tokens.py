"""Token strings: the text form, the one display rule of every view, and byte pieces."""

from __future__ import annotations

import numpy as np
import pytest

from vocablens.model.tokenizer import byte_table, piece_bytes, whole_word_tokens
from vocablens.tokens import bytes_text, display_width, shown, token_strings, visible

HOSTILE = [" Paris", " ", "  ", "\u00a0", " \u00a0 ", "\n", "\t\r", "\x07", "a\u200bb", "\u202e",
           "\u2028", "\ufeff", "New York", "x ", "", "⟨E6⟩", "日本", "e\u0301", "\x85", "$x$"]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" Paris", "␣Paris"),
        ("Paris ", "Paris␣"),
        ("  x", "␣␣x"),
        (" ", "␣"),
        ("   ", "␣␣␣"),
        ("New York", "New York"),  # inner spaces stay
        ("\u00a0", "⟨U+00A0⟩"),  # NBSP: never a blank chip
        (" \u3000", "␣⟨U+3000⟩"),  # ideographic space
        ("\n\n", "\\n\\n"),
        ("\t", "\\t"),
        ("\x07", "⟨0x07⟩"),
        ("\x85", "⟨0x85⟩"),  # C1 control
        ("a\u200bb", "a⟨U+200B⟩b"),  # zero-width space
        ("\u202eabc", "⟨U+202E⟩abc"),  # bidi override
        ("\u2028", "⟨U+2028⟩"),  # line separator
        ("\ue000", "⟨U+E000⟩"),  # private use
        ("é", "é"),
        ("日本", "日本"),
        ("⟨E6⟩⟨97⟩", "⟨E6⟩⟨97⟩"),  # byte pieces, as token_strings writes them
        ("", ""),  # nothing to show (an absent value)
    ],
)
def test_shown_rules(text, expected):
    assert shown(text) == expected


@pytest.mark.parametrize("text", HOSTILE)
def test_shown_is_idempotent_and_never_blank(text):
    once = shown(text)
    assert shown(once) == once
    assert shown(visible(text)) == once  # views accept the text form or raw text alike
    if text:
        assert once.strip() and once.isprintable(), repr(once)


def test_visible_keeps_spaces_and_escapes_controls():
    assert visible(" Paris\n") == " Paris\\n"
    assert visible("\u00a0") == "\u00a0"  # the text form: only control characters change
    assert visible("\x00\x7f") == "⟨0x00⟩⟨0x7F⟩"


def test_display_width():
    assert display_width("abc") == 3
    assert display_width("日本") == 4
    assert display_width("e\u0301") == 1


def test_bytes_text():
    assert bytes_text("日".encode()) == "日"
    assert bytes_text(b"\xe6\x97") == "⟨E6⟩⟨97⟩"
    assert bytes_text(b"a\xa5") == "a⟨A5⟩"
    assert bytes_text(b" \xc2") == " ⟨C2⟩"


def test_byte_table_is_gpt2s():
    from tokenizers import pre_tokenizers

    table = byte_table()
    assert sorted(table.values()) == list(range(256))
    assert set(table) == set(pre_tokenizers.ByteLevel.alphabet())
    assert (table["Ġ"], table["Ċ"], table["ĉ"], table["a"], table["é"]) == (
        0x20,
        0x0A,
        0x09,
        0x61,
        0xE9,
    )


def byte_level_tokenizer():
    """GPT-2-style byte-level BPE with the 256 single bytes only: every byte is its own token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(byte_table(), key=byte_table().get)
    vocab = {"<|endoftext|>": 0, **{ch: i + 1 for i, ch in enumerate(alphabet)}}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|endoftext|>")


def sentencepiece_tokenizer():
    """Llama-2-style BPE: ``▁`` word starts, byte fallback ``<0xNN>``, a decoder that strips."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    pieces = ["<unk>", "<s>", "</s>", *(f"<0x{b:02X}>" for b in range(256))]
    word = ["▁", "P", "a", "r", "i", "s", "▁P", "▁Pa", "▁Par", "▁Pari", "▁Paris"]
    vocab = {p: i for i, p in enumerate(pieces + word)}
    merges = [("▁", "P"), ("▁P", "a"), ("▁Pa", "r"), ("▁Par", "i"), ("▁Pari", "s")]
    backend = Tokenizer(
        models.BPE(vocab=vocab, merges=merges, byte_fallback=True, unk_token="<unk>")
    )
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    backend.decoder = decoders.Sequence(
        [
            decoders.Replace("▁", " "),
            decoders.ByteFallback(),
            decoders.Fuse(),
            decoders.Strip(" ", 1, 0),
        ]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )


def test_byte_level_pieces_show_their_bytes():
    tok = byte_level_tokenizer()
    ids = tok.encode("日 é\x07", add_special_tokens=False)
    assert len(ids) == 7  # E6 97 A5, Ġ, C3 A9 (Ġ and C3 are separate: no merges), 07
    assert token_strings(tok, ids, readable=False)[:3] == ["\ufffd"] * 3
    assert token_strings(tok, ids) == ["⟨E6⟩", "⟨97⟩", "⟨A5⟩", " ", "⟨C3⟩", "⟨A9⟩", "⟨0x07⟩"]
    assert [shown(t) for t in token_strings(tok, ids)][3] == "␣"
    assert b"".join(piece_bytes(tok, ids[:3])) == "日".encode()
    assert piece_bytes(tok, ids)[3] is None  # whole text: nothing lost
    assert token_strings(tok, [0]) == ["<|endoftext|>"]


def test_sentencepiece_byte_fallback_and_word_start():
    tok = sentencepiece_tokenizer()
    ids = tok.encode("Paris 日", add_special_tokens=False)
    assert tok.convert_ids_to_tokens(ids) == ["▁Paris", "▁", "<0xE6>", "<0x97>", "<0xA5>"]
    assert tok.decode(ids[:1]) == "Paris"  # the decoder strips a text's first space ...
    assert token_strings(tok, ids) == [" Paris", " ", "⟨E6⟩", "⟨97⟩", "⟨A5⟩"]  # ... not a token's
    assert [shown(t) for t in token_strings(tok, ids)][:2] == ["␣Paris", "␣"]
    assert token_strings(tok, [tok.convert_tokens_to_ids("<0x41>")]) == ["A"]
    words = tok.convert_tokens_to_ids(["▁Pa", "▁Par", "▁Pari", "▁Paris"])
    assert whole_word_tokens(tok) == words  # word start from the piece, letters from the text


def test_word_level_tokenizer_is_left_alone():
    from tiny_tokenizer import tiny_tokenizer

    tok = tiny_tokenizer(12)
    assert token_strings(tok, [4, 5]) == ["w4", "w5"]
    assert piece_bytes(tok, [4]) == [None]
    assert token_strings(None, [7]) == ["⟨7⟩"]


def test_every_view_uses_the_one_rule():
    from vocablens.reports import page_rows, plots

    assert page_rows.shown is shown
    for text in HOSTILE:
        assert plots.plain(text) == shown(text).replace("$", r"\$")
    assert plots.plain(" Paris", 4) == "␣Pa…"


def lens_result(tokens, top):
    from vocablens.lens.result import LensResult

    T = len(tokens)
    vocab = {i: t for i, t in enumerate(tokens)}
    top_ids = np.array(top, dtype=np.int64).reshape(1, 1, T, 1)  # (P, S, T, k)
    full = np.full((1, 1, T), 0.5, dtype=np.float32)  # (P, S, T)
    return LensResult(
        model="m", texts=["".join(tokens)], token_ids=[list(range(T))], tokens=[list(tokens)],
        sites=[("resid", 0)], n_layers=0, top_ids=top_ids, top_probs=full[..., None].copy(),
        entropy=full, kl_to_final=full, next_token_ce=full, target_rank=full.astype(np.int64),
        target_prob=full, final_top1=top_ids[:, 0, :, 0].copy(),
        first_top1_layer=np.zeros((1, T), dtype=np.int64), vocab=vocab,
    )  # fmt: skip


def test_table_shows_tokens_and_json_keeps_text():
    import json

    result = lens_result([" Paris", " ", "\u00a0", "⟨E6⟩", "日本語です"], [0, 1, 2, 3, 4])
    table = result.table()
    header, _, row = table.splitlines()
    assert "␣Paris" in header and "␣ " in header and "⟨U+00A0⟩" in header and "⟨E6⟩" in row
    assert "⟨U+00A…" in row  # cut to the cell (``top1 prob``), never mid-character
    assert all(display_width(line) == display_width(header) for line in table.splitlines())
    data = json.loads(result.to_json())["prompts"][0]
    assert data["tokens"][:2] == [" Paris", " "]  # JSON: the text form, spaces as they are
    assert data["final_top1"] == [" Paris", " ", "\u00a0", "⟨E6⟩", "日本語です"]
    assert result.to_pandas()["top1"].tolist()[0] == " Paris"


@pytest.mark.slow
def test_smollm2_byte_pieces(smollm2):
    tok = smollm2.tokenizer
    ids = tok.encode("日本", add_special_tokens=False)
    assert tok.convert_ids_to_tokens(ids) == ["æĹ", "¥", "æľ¬"]
    assert token_strings(tok, ids) == ["⟨E6⟩⟨97⟩", "⟨A5⟩", "本"]
    half = tok.encode(" ½", add_special_tokens=False)
    assert token_strings(tok, half) == [" ⟨C2⟩", "⟨BD⟩"]
    assert [shown(t) for t in token_strings(tok, half)] == ["␣⟨C2⟩", "⟨BD⟩"]
    everything = token_strings(tok, range(len(tok)))
    replaced = [i for i, t in enumerate(everything) if "\ufffd" in t]  # no token reads as � ...
    assert tok.convert_ids_to_tokens(replaced) == ["ï¿½"]  # ... but U+FFFD's own (EF BF BD)
    assert all(shown(t).strip() for t in everything)  # and none as an empty chip


@pytest.mark.slow
def test_smollm2_lens_table_shows_bytes(smollm2):
    from vocablens.lens.logit_lens import Lens

    result = Lens(smollm2)("東京 and 日本", k=3, layers=[0, 30])
    header = result.table().splitlines()[0]
    assert "⟨E6⟩" in header and "␣and" in header and "\ufffd" not in result.table()


def test_annotation_reads_byte_pieces_as_bytes():
    from vocablens.annotate.normalize import normalize_token

    for text in ("⟨E6⟩⟨97⟩", " ⟨C2⟩", "⟨A5⟩"):
        assert normalize_token(text).kind == "byte", text
