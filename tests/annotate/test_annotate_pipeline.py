"""annotate_projections and ``vocablens annotate``: input forms, output table, errors, atomicity."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest
from click.testing import CliRunner

from vocablens import InputError, ResultFileError
from vocablens.annotate import Annotations, ConceptLabeler, annotate_projections
from vocablens.annotate.result import COLUMNS
from vocablens.cli import main
from vocablens.project import files as projfile

from tiny_models import save_tiny_model, single_thread

WEEKDAYS = [" Monday", " Tuesday", " Wednesday", " Thursday", " Friday", " Saturday", " Sunday",
            "Monday", " monday", "Sunday"]  # fmt: skip
COLORS = [" red", " blue", " green", " yellow", " purple", " black", " white", "red", " Blue",
          " gray"]  # fmt: skip
PAST = [" walked", " went", " took", " asked", " played", " saw", " told", " gave", " ran", " ate"]
PUNCT = [",", ".", "!", "?", ";", ":", "),", '."', "--", "..."]
NOISE = [" the", "ing", " however"]

# (kind, layer, index, sign) -> tokens, best first
GROUPS = {
    ("values", 0, 0, 1): WEEKDAYS + NOISE,
    ("values", 0, 0, -1): COLORS + NOISE,
    ("values", 0, 1, 1): WEEKDAYS[:7] + COLORS[:7] + NOISE[:1],
    ("values", 0, 1, -1): PUNCT + NOISE,
    ("values", 1, 0, 1): PAST + NOISE,
    ("keys_gate", 1, 0, 1): COLORS + NOISE,
}


def make_table(groups=GROUPS, vocab: int = 160, seed: int = 0) -> pd.DataFrame:
    """A long projections table in :data:`vocablens.project.files.SCHEMA`, rows shuffled."""
    ids: dict[str, int] = {}
    rows = []
    for (kind, layer, index, sign), tokens in groups.items():
        for rank, token in enumerate(tokens):
            rows.append({"kind": kind, "readout": "raw", "layer": layer, "expert": -1, "index": index, "sign": sign, "rank": rank,
                         "token_id": ids.setdefault(token, len(ids) % vocab), "token": token,
                         "score": float(sign * (30 - rank)), "src_token_id": -1, "src_token": ""})  # fmt: skip
    random.Random(seed).shuffle(rows)
    frame = pd.DataFrame(rows)
    return pd.DataFrame({name: frame[name].astype(field.type.to_pandas_dtype())
                         for name, field in zip(projfile.SCHEMA.names, projfile.SCHEMA, strict=True)})  # fmt: skip


@pytest.fixture(scope="module")
def labeler():
    return ConceptLabeler().fit()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    with single_thread():
        return str(save_tiny_model("llama", tmp_path_factory.mktemp("tiny-llama")))


@pytest.fixture
def folder(tmp_path, model_dir):
    out = tmp_path / "proj"
    out.mkdir()
    table = make_table()
    finished = {}
    for layer, part in table.groupby("layer"):
        name = projfile.layer_file(int(layer))
        projfile.write_table(part, out / name)
        finished[str(layer)] = name
    projfile.write_manifest(out, {"format": projfile.FORMAT, "format_version": 1,
                                  "model": model_dir, "finished": finished})  # fmt: skip
    return out


def ann(*args, **kwargs) -> pd.DataFrame:
    """annotate_projections' table as a DataFrame."""
    kwargs.setdefault("readout", "raw")  # the tiny projections are raw tables
    result = annotate_projections(*args, **kwargs)
    assert isinstance(result, Annotations)
    return result.frame


def _row(out: pd.DataFrame, kind: str, layer: int, index: int, sign: int) -> pd.Series:
    hit = out[(out["kind"] == kind) & (out["layer"] == layer) & (out["index"] == index)
              & (out["sign"] == sign)]  # fmt: skip
    assert len(hit) == 1
    return hit.iloc[0]


def test_dataframe_without_model(labeler):
    out = ann(make_table(), labeler=labeler)
    assert list(out.columns) == list(COLUMNS)
    assert len(out) == len(GROUPS) and set(out["expert"]) == {-1}
    assert set(out["features"]) == {"wordnet"}  # no model: WordNet features
    days = _row(out, "values", 0, 0, 1)
    assert (days["label"], days["supersense"], days["confident"]) == (
        "day of the week",
        "noun.time",
        True,
    )
    assert days["top_tokens"] == WEEKDAYS + NOISE  # ordered by rank despite shuffled rows
    assert days["explained_tokens"] == WEEKDAYS
    assert 0.5 < days["coverage"] <= 1.0  # rank-weighted: the top tokens weigh most
    assert days["sides_polysemantic"]  # +v weekdays, -v colors
    assert _row(out, "values", 0, 0, -1)["label"] == "color"
    mixed = _row(out, "values", 0, 1, 1)
    assert mixed["polysemantic"] and mixed["n_clusters"] == 2 and mixed["score"] >= 0.3
    assert not days["polysemantic"]
    assert _row(out, "values", 0, 1, -1)["label"] == "punctuation"
    past = _row(out, "values", 1, 0, 1)
    assert past["form"] == "past-tense verbs"  # the form, whatever the meaning
    assert pd.isna(past["sides_polysemantic"])  # no -v row
    assert _row(out, "keys_gate", 1, 0, 1)["label"] == "color"


def test_filters(labeler):
    table = make_table()
    assert set(ann(table, kinds=["values"], labeler=labeler)["kind"]) == {"values"}
    assert set(ann(table, layers=[1], labeler=labeler)["layer"]) == {1}
    assert set(ann(table, layers="1", labeler=labeler)["layer"]) == {1}
    assert set(ann(table, layers="all", labeler=labeler)["layer"]) == {0, 1}
    top3 = ann(table, top_k=3, labeler=labeler)
    assert all(len(t) == 3 for t in top3["top_tokens"])
    empty = ann(table, kinds=["qk"], labeler=labeler)
    assert list(empty.columns) == list(COLUMNS) and len(empty) == 0
    with pytest.raises(InputError):
        ann(table, top_k=0, labeler=labeler)


def test_folder_labels_need_no_model(folder, labeler, tmp_path):
    with single_thread():
        out = ann(folder, labeler=labeler)
    assert set(out["features"]) == {"wordnet"}  # WordNet only: no embeddings, no model
    assert _row(out, "values", 0, 0, 1)["label"] == "day of the week"
    for gone in ("model", "device"):  # the options of the embedding-reading labeller are gone
        with pytest.raises(TypeError, match=gone):
            ann(folder, labeler=labeler, **{gone: None})
    for flag in ("--model", "--no-model", "--device"):
        result = _cli(folder, "--out", tmp_path / "a.parquet", flag, "-q")
        assert result.exit_code == 2 and f"No such option '{flag}'" in result.output


def test_unloadable_manifest_model_falls_back(folder, labeler, caplog):
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["model"] = str(folder / "no-such-model")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    out = ann(folder, labeler=labeler)
    assert set(out["features"]) == {"wordnet"}
    assert "cannot load" not in caplog.text  # labels need no model: none is loaded


def test_single_parquet_file(folder, labeler):
    out = ann(folder / "layer_001.parquet", labeler=labeler)
    assert set(out["layer"]) == {1} and set(out["features"]) == {"wordnet"}


def test_bad_inputs(tmp_path, labeler):
    with pytest.raises(ResultFileError, match="not found"):
        ann(tmp_path / "missing", labeler=labeler)
    bad = tmp_path / "bad.parquet"
    make_table().drop(columns=["token", "rank"]).to_parquet(bad)
    with pytest.raises(ResultFileError, match="missing columns 'rank', 'token'"):
        ann(bad, labeler=labeler)
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with pytest.raises(ResultFileError):
        ann(junk, labeler=labeler)
    with pytest.raises(ResultFileError, match="missing columns 'kind', 'layer'"):
        ann(pd.DataFrame({"token": ["a"]}), labeler=labeler)


def test_write_is_atomic_and_reads_back(tmp_path, labeler, monkeypatch):
    import pyarrow.parquet as pq

    out = annotate_projections(make_table(), labeler=labeler, readout="raw")
    target = tmp_path / "ann.parquet"
    target.write_bytes(b"previous result")
    real = pq.write_table

    def broken(table, path, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError):
        out.write(target)
    assert target.read_bytes() == b"previous result"  # never half-written
    assert [p.name for p in tmp_path.iterdir()] == ["ann.parquet"]  # no temp file left
    monkeypatch.setattr(pq, "write_table", real)
    out.write(target)
    back = Annotations.read(target)
    pd.testing.assert_frame_equal(back.frame, out.frame)
    with pytest.raises(InputError, match="does not exist"):
        out.write(tmp_path / "nope" / "a.parquet")


def _cli(*args):
    return CliRunner().invoke(main, ["annotate", *map(str, args), "--readout", "raw"])


def test_cli(folder, tmp_path):
    target = tmp_path / "ann.parquet"
    result = _cli(folder, "--out", target, "--kinds", "values", "-q")
    assert result.exit_code == 0, result.output
    assert f"wrote {target}" in result.output
    out = Annotations.read(target).frame
    assert set(out["kind"]) == {"values"} and len(out) == 5
    assert {"layer", "expert", "index", "sign", "label", "supersense", "coverage", "polysemantic", "score",
            "explained_tokens"} <= set(out.columns)  # fmt: skip
    result = _cli(folder, "--out", target, "--layers", "1", "-k", "5", "-q")
    assert result.exit_code == 0, result.output
    assert set(pd.read_parquet(target)["layer"]) == {1}


def test_cli_errors(tmp_path):
    missing = _cli(tmp_path / "missing", "--out", tmp_path / "a.parquet", "-q")
    assert missing.exit_code == 2
    assert missing.output.strip().startswith("Error: projections not found")
    assert len(missing.output.strip().splitlines()) == 1
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"token": ["a"], "layer": [0]}).to_parquet(bad)
    wrong = _cli(bad, "--out", tmp_path / "a.parquet", "-q")
    assert wrong.exit_code == 2 and "missing columns" in wrong.output
    assert len(wrong.output.strip().splitlines()) == 1
    assert not (tmp_path / "a.parquet").exists()
    no_dir = _cli(bad, "--out", tmp_path / "x" / "a.parquet", "-q")
    assert no_dir.exit_code == 2
    good = tmp_path / "good.parquet"
    make_table().to_parquet(good)
    bad_layers = _cli(good, "--out", tmp_path / "a.parquet", "--layers", "5-2", "-q")
    assert bad_layers.exit_code == 2 and "bad layer range" in bad_layers.output


def test_cli_end_to_end_after_project(tmp_path):
    """``vocablens project`` then ``vocablens annotate`` on a tiny model (real file format)."""
    with single_thread():
        model = save_tiny_model("gpt2", tmp_path / "tiny")
        proj = tmp_path / "proj"
        done = CliRunner().invoke(main, ["project", str(model), "--out", str(proj), "--what",
                                         "values", "-k", "5", "-q"])  # fmt: skip
        assert done.exit_code == 0, done.output
        target = tmp_path / "ann.parquet"
        result = _cli(proj, "--out", target, "-q")
    assert result.exit_code == 0, result.output
    out = pd.read_parquet(target)
    assert len(out) == 2 * 64 * 2  # layers x neurons x signs
    assert set(out["features"]) == {"wordnet"}  # the manifest's model was loaded


def test_generative_column_is_separate(labeler):
    from vocablens.annotate.generative import GenerativeLabeler, clean

    class Fake(GenerativeLabeler):
        def fit(self, X=None, y=None):
            self.model_ = None
            return self

        def transform(self, token_lists, progress=False):
            return [f"guess {len(t)}" for t in token_lists]

    out = ann(make_table(), labeler=labeler, generative=Fake())
    assert list(out.columns) == [*COLUMNS, "generative_suggestion"]
    assert list(Annotations(out).frame.columns) == list(out.columns)
    assert out["generative_suggestion"].str.startswith("guess").all()
    assert "generative_suggestion" not in ann(make_table(), labeler=labeler)
    assert clean(" the world of animals, mostly") == "animals"
    assert clean(" the color of the\n") == "color"
    assert clean("") == ""


def test_form_read_on_the_raw_rows_too(labeler):
    # cosine rows: plain words, no form stands out; raw rows of the same vector: word starts
    cosine = {("values", 0, 0, 1): [" table", " happy", " river", " house", " seven", " green",
                                    " bread", " under", " music", " window"]}  # fmt: skip
    starts = [" strugg", " affili", " collab", " enthus", " dissemin", " miscon", " advoc",
              " reluct", " preserv", " controvers"]  # fmt: skip
    table = pd.concat([make_table(cosine).assign(readout="cosine"),
                       make_table({("values", 0, 0, 1): starts})], ignore_index=True)  # fmt: skip
    both = _row(ann(table, labeler=labeler, readout="cosine"), "values", 0, 0, 1)
    assert (both["form"], both["form_readout"]) == ("word starts (fragments)", "raw")
    assert both["readout"] == "cosine" and both["top_tokens"] == cosine[("values", 0, 0, 1)]
    only = _row(ann(table[table["readout"] == "cosine"], labeler=labeler, readout="cosine"),
                "values", 0, 0, 1)  # fmt: skip
    assert (only["form"], only["form_readout"]) == ("", "")
    raw = _row(ann(table, labeler=labeler, readout="raw"), "values", 0, 0, 1)  # its own rows
    assert (raw["form"], raw["form_readout"]) == ("word starts (fragments)", "raw")
