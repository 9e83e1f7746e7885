"""Report inputs: prompts files, the built-in prompts, layer lists, configuration checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vocablens.errors import InputError
from vocablens.reports import (
    DEFAULT_PROMPTS,
    ReportConfig,
    generate_report,
    parse_layers,
    read_prompts,
)
from vocablens.reports.prompts import default_prompts, parse_prompts, unescape

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "prompts.txt"


def test_examples_file_matches_the_built_in_prompts():
    assert read_prompts(EXAMPLES) == default_prompts()
    assert len(DEFAULT_PROMPTS) >= 5
    assert any("\n" in p for p in default_prompts())  # the code prompt spans two lines


def test_parse_prompts():
    text = "# comment\n\n  first  \nsecond\\nline\\tx\\\\n\n   # indented comment\nback\\slash\n"
    assert parse_prompts(text) == ["  first  ", "second\nline\tx\\n", "back\\slash"]
    assert unescape("a\\") == "a\\"


def test_read_prompts_errors(tmp_path):
    with pytest.raises(InputError, match="prompts file not found"):
        read_prompts(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="is a folder"):
        read_prompts(tmp_path)
    (tmp_path / "empty.txt").write_text("# nothing\n\n   \n")
    with pytest.raises(InputError, match="holds no prompt"):
        read_prompts(tmp_path / "empty.txt")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_prompts(tmp_path / "latin1.txt")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, None),
        ("all", None),
        ("", None),
        ("3", [3]),
        (" 0-2 , 5,4 ", [0, 1, 2, 4, 5]),
        ("7-7", [7]),
        (2, [2]),
        ([5, 1, 1], [1, 5]),
    ],
)
def test_parse_layers(spec, expected):
    assert parse_layers(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("5-2", "bad layer range '5-2'"),
        ("a", "bad layer list"),
        ("1,,2", "bad layer list"),
        ("-1", "bad layer list"),
        ("1-", "bad layer list"),
        ([-1], "bad layer -1"),
        ([], "empty layer list"),
        ([True], "bad layer True"),
    ],
)
def test_parse_layers_errors(spec, message):
    with pytest.raises(InputError, match=re.escape(message)):
        parse_layers(spec)


def test_parse_layers_range_check():
    assert parse_layers("0-29", 30) == list(range(30))
    with pytest.raises(InputError, match=r"layer 30 out of range: the model has layers 0\.\.29"):
        parse_layers("28-30", 30)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("value_k", 0, "value_k must be a positive integer"),
        ("table_k", "8", "table_k must be a positive integer"),
        ("ov_tokens", True, "ov_tokens must be a positive integer"),
        ("heatmap_color", "red", "heatmap_color must be 'prob' or 'kl'"),
        ("prompts", ["ok", "  "], "empty prompt"),
        ("layers", "9-1", "bad layer range"),
    ],
)
def test_config_check(field, value, message):
    with pytest.raises(InputError, match=message):
        ReportConfig(**{field: value}).check()


def test_generate_report_checks_before_loading(tmp_path):
    """Bad options and targets fail fast, before any model is loaded."""
    with pytest.raises(InputError, match="unknown report option 'colour'"):
        generate_report("no-such-model", out=tmp_path / "r", colour="kl")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("keep")
    with pytest.raises(InputError, match="not a vocablens report"):
        generate_report("no-such-model", out=tmp_path / "notes")
    with pytest.raises(InputError, match="bad layer range"):
        generate_report("no-such-model", layers="3-1", out=tmp_path / "r")
