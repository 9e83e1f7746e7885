"""``vocablens activations`` through click's CliRunner, corpus sources, and bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from act_helpers import model_dir, tables, write_corpus
from click.testing import CliRunner

from vocablens.activations.agreement import agreement
from vocablens.activations.corpus import open_corpus
from vocablens.cli import main
from vocablens.errors import InputError

SMALL_CLI = ["--chunk-tokens", "64", "--seq-len", "16", "--top-n", "3", "--context", "4", "-q"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    return model_dir("gpt2", tmp / "gpt2"), write_corpus(tmp / "corpus.jsonl", n_docs=12)


def _invoke(*args):
    return CliRunner().invoke(main, ["activations", *map(str, args)])


def test_cli_writes_the_tables(tiny, tmp_path):
    folder, corpus = tiny
    done = _invoke(folder, "--corpus", corpus, "--out", tmp_path / "acts", "--top-k", "3",
                   *SMALL_CLI)  # fmt: skip
    assert done.exit_code == 0, done.output
    got = tables(tmp_path / "acts")
    assert len(got["stats"]) == 2 * 64 and set(got["contexts"]["sign"]) == {1, -1}
    manifest = json.loads((tmp_path / "acts" / "manifest.json").read_text())
    assert manifest["complete"] and len(manifest["corpus"]["fingerprint"]) == 64
    assert manifest["options"]["top_n"] == 3 and manifest["model_card"]["family"] == "gpt2"
    again = _invoke(folder, "--corpus", corpus, "--out", tmp_path / "acts", "--top-k", "3",
                    *SMALL_CLI)  # fmt: skip
    assert again.exit_code == 0  # a finished run is left as it is
    other = _invoke(folder, "--corpus", corpus, "--out", tmp_path / "acts", *SMALL_CLI)
    assert other.exit_code == 2 and "or options" in other.output


@pytest.mark.parametrize("case", ["missing", "empty", "format", "layers", "range", "file_out",
                                  "under_file", "jsonl_field", "not_json"])  # fmt: skip
def test_bad_input_is_one_line_and_writes_nothing(tiny, tmp_path, case):
    folder, corpus = tiny
    out = tmp_path / "acts"
    args = [folder, "--corpus", corpus, "--out", out]
    if case == "missing":
        args[2] = tmp_path / "nowhere.jsonl"
    elif case == "empty":
        args[2] = tmp_path / "empty.txt"
        args[2].write_text("\n\n")
    elif case == "format":
        args[2] = tmp_path / "corpus.csv"
        args[2].write_text("text\nhello\n")
    elif case == "layers":
        args += ["--layers", "1-x"]
    elif case == "range":
        args += ["--layers", "7"]
    elif case == "file_out":
        out.write_text("a file")
    elif case == "under_file":
        (tmp_path / "f").write_text("a file")
        args[4] = tmp_path / "f" / "acts"
    elif case == "jsonl_field":
        args += ["--field", "body"]
    elif case == "not_json":
        args[2] = tmp_path / "bad.jsonl"
        args[2].write_text('{"text": "w5"}\nnot json\n')
    done = _invoke(*args, *SMALL_CLI)
    assert done.exit_code == 2, done.output
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "Traceback" not in done.output
    assert case == "file_out" or not out.exists()


def test_corpus_sources(tmp_path):
    (tmp_path / "a.txt").write_text("first doc\nstill first\n\n\nsecond doc\n")
    (tmp_path / "b.jsonl").write_text('{"text": "third"}\n"fourth"\n')
    pd.DataFrame({"text": ["fifth", "sixth"]}).to_parquet(tmp_path / "c.parquet")
    docs = list(open_corpus(tmp_path).documents())
    assert docs == ["first doc\nstill first", "second doc", "third", "fourth", "fifth", "sixth"]
    before = open_corpus(tmp_path).fingerprint()
    (tmp_path / "b.jsonl").write_text('{"text": "changed"}\n')
    assert open_corpus(tmp_path).fingerprint() != before
    import datasets

    datasets.Dataset.from_dict({"text": ["one", "two"]}).save_to_disk(tmp_path / "ds")
    assert list(open_corpus(tmp_path / "ds").documents()) == ["one", "two"]
    with pytest.raises(InputError, match="no column"):
        open_corpus(tmp_path / "ds", field="body")
    wordnet = open_corpus(None)
    first = next(wordnet.documents())
    assert first.startswith("that which is perceived or known")
    assert wordnet.kind == "wordnet" and len(wordnet.files) == 4


def test_agreement_counts_next_tokens_in_the_value_top_k():
    contexts = pd.DataFrame(
        {
            "layer": 0,
            "expert": -1,
            "index": [0, 0, 1, 1, 1],
            "sign": [1, 1, 1, -1, -1],
            "next_token_id": [7, 8, 9, 9, -1],
        }
    )
    values = pd.DataFrame(
        {
            "kind": "values",
            "layer": 0,
            "expert": -1,
            "index": [0, 0, 1, 1, 1, 1],
            "sign": [1, 1, 1, 1, -1, -1],
            "rank": [0, 1, 0, 1, 0, 1],
            "token_id": [7, 9, 8, 3, 9, 4],
        }
    )
    got = agreement(contexts, values, k=2).set_index("sign")
    assert got.loc[1, "rate"] == pytest.approx(1 / 3) and got.loc[1, "contexts"] == 3
    assert got.loc[-1, "rate"] == 1.0 and got.loc[-1, "contexts"] == 1  # the -1 row is left out
    # baseline: neuron 0's contexts against neuron 1's value, and 1's against 0's
    assert got.loc[1, "baseline"] == pytest.approx(2 / 3)
    assert agreement(contexts, values, k=1).set_index("sign").loc[1, "rate"] == pytest.approx(1 / 3)
