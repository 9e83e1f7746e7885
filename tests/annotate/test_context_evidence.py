"""Contexts as evidence: ``annotate_projections(activations=...)`` and ``--activations``."""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from vocablens.activations.files import Activations, read_activations
from vocablens.activations.run import ActivationsConfig, activations_to_dir
from vocablens.annotate import Annotations, ConceptLabeler, annotate_projections
from vocablens.annotate.context_evidence import context_evidence
from vocablens.annotate.result import COLUMNS, EVIDENCE_COLUMNS
from vocablens.cli import main
from vocablens.errors import InputError, ResultFileError
from vocablens.project.files import read_projections

from tiny_models import VOCAB, single_thread, tiny_model
from tiny_tokenizer import save_tiny, tiny_tokenizer

WORDS = ("Monday", "Tuesday", "Friday", "Sunday", "red", "blue", "green", "dog", "cat", "the")
SMALL = dict(chunk_tokens=64, seq_len=16, top_n=5, context=4, progress=False)
K = 10
KEYS = ["layer", "expert", "index", "sign"]


def _model(folder, seed: int = 0):
    model, _ = tiny_model("gpt2", seed)
    return save_tiny(model, tiny_tokenizer(VOCAB["gpt2"], extra=WORDS), folder)


def _corpus(path, n_docs: int = 30, seed: int = 0):
    rng = random.Random(seed)
    vocab = [*WORDS, *(f"w{i}" for i in range(4 + len(WORDS), VOCAB["gpt2"]))]
    with open(path, "w", encoding="utf-8") as handle:
        for _ in range(n_docs):
            text = " ".join(rng.choice(vocab) for _ in range(rng.randint(2, 20)))
            handle.write(json.dumps({"text": text}) + "\n")
    return path


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A tiny model, its value projections (cosine, top-10) and two corpus runs of it."""
    tmp = tmp_path_factory.mktemp("evidence")
    with single_thread():
        model = _model(tmp / "model")
        corpus = _corpus(tmp / "corpus.jsonl")
        acts = activations_to_dir(ActivationsConfig(model=str(model), out=tmp / "acts",
                                                    corpus=corpus, **SMALL))  # fmt: skip
        layer0 = activations_to_dir(ActivationsConfig(model=str(model), out=tmp / "acts0",
                                                      corpus=corpus, layers="0", **SMALL))  # fmt: skip
        other = _model(tmp / "other", seed=1)
        foreign = activations_to_dir(ActivationsConfig(model=str(other), out=tmp / "foreign",
                                                       corpus=corpus, **SMALL))  # fmt: skip
        done = _cli("project", model, "--out", tmp / "proj", "--what", "values", "-k", K,
                    "--readout", "cosine", "-q")  # fmt: skip
        assert done.exit_code == 0, done.output
    return {"tmp": tmp, "proj": tmp / "proj", "acts": acts, "layer0": layer0,
            "foreign": foreign}  # fmt: skip


@pytest.fixture(scope="module")
def labeler():
    return ConceptLabeler().fit()


@pytest.fixture(scope="module")
def annotated(world, labeler):
    with single_thread():
        return annotate_projections(world["proj"], activations=world["acts"],
                                    labeler=labeler).frame  # fmt: skip


def test_evidence_columns_keep_the_labels(world, labeler, annotated):
    assert list(annotated.columns) == [*COLUMNS, *EVIDENCE_COLUMNS]
    plain = annotate_projections(world["proj"], labeler=labeler).frame
    pd.testing.assert_frame_equal(annotated[list(COLUMNS)], plain)  # label etc. unchanged
    assert len(annotated) == 2 * 64 * 2  # layers x neurons x signs
    assert annotated["context_agreement"].notna().any()
    assert set(annotated["context_label_kind"]) <= {"semantic", "form", "none"}
    assert (annotated["context_support"] <= (annotated["label_kind"] == "semantic")).all()


def test_agreement_is_a_brute_force_count(world, annotated):
    """context_agreement == (contexts whose next token is in the same sign's top-10) / contexts."""
    contexts = read_activations(world["acts"]).contexts
    values = read_projections(world["proj"])
    values = values[(values["readout"] == "cosine") & (values["rank"] < K)]
    top: dict[tuple, set[int]] = {}
    for key, ids in values.groupby(KEYS)["token_id"]:
        top[tuple(int(v) for v in key)] = set(int(i) for i in ids)
    checked = 0
    for row in annotated.itertuples():
        key = (row.layer, row.expert, row.index, row.sign)
        mine = contexts[
            (contexts["layer"] == row.layer)
            & (contexts["index"] == row.index)
            & (contexts["sign"] == row.sign)
        ]  # the value's own sign: +v with the positive contexts, -v with the negative
        nexts = [int(t) for t in mine["next_token_id"] if t >= 0]
        if not nexts:
            assert pd.isna(row.context_agreement)
            continue
        want = sum(t in top[key] for t in nexts) / len(nexts)
        assert row.context_agreement == pytest.approx(want, abs=1e-6)
        checked += want > 0
    assert checked > 0  # some hits, so the count is not trivially zero


def test_support_reads_the_label_in_the_contexts(labeler):
    """A weekday label is supported by weekday triggers, not by colour triggers."""
    days = [" Monday", " Tuesday", " Friday", " Sunday", " Wednesday", " weekend", " the"]
    label = labeler.label(days)
    assert label.semantic and label.label == "day of the week"
    form = labeler.label(["ing", "ment", "tion", "qz", "xv"])
    rows = []
    for index, triggers in ((0, [" Monday", " Saturday", " the", " Sunday"]),
                            (1, [" red", " blue", " green", " red"])):  # fmt: skip
        for rank, token in enumerate(triggers):
            rows.append({"layer": 0, "expert": -1, "index": index, "sign": 1, "rank": rank,
                         "token": token, "next_token": " is", "next_token_id": 5})  # fmt: skip
    run = Activations({"options": {"layers": [0]}}, pd.DataFrame(), pd.DataFrame(rows))
    values = pd.DataFrame({"layer": [0, 0], "expert": [-1, -1], "index": [0, 1], "sign": [1, 1],
                           "rank": [0, 0], "token_id": [5, 6]})  # fmt: skip
    labels = {(0, -1, 0, 1): label, (0, -1, 1, 1): label, (0, -1, 2, 1): form}
    out = context_evidence(run, values, labels, labeler).set_index("index")
    assert out.loc[0, "context_support_share"] == pytest.approx(0.75)  # Saturday via the closure
    assert bool(out.loc[0, "context_support"]) and not bool(out.loc[1, "context_support"])
    assert out.loc[0, "context_agreement"] == 1.0 and out.loc[1, "context_agreement"] == 0.0
    assert "color" in out.loc[1, "context_label"]  # where it fires, in the labeller's words
    assert np.isnan(out.loc[2, "context_agreement"]) and out.loc[2, "context_label"] == ""
    assert not bool(out.loc[2, "context_support"])  # no contexts, and a form label
    with pytest.raises(InputError, match="context tokens"):
        context_evidence(run, values, labels, labeler, tokens="prefix")


def test_cli_writes_and_reads_back(world):
    target = world["tmp"] / "ann.parquet"
    done = _cli("annotate", world["proj"], "--activations", world["acts"], "--out", target,
                "--context-tokens", "next", "-q")  # fmt: skip
    assert done.exit_code == 0, done.output
    back = Annotations.read(target).frame
    assert list(back.columns) == [*COLUMNS, *EVIDENCE_COLUMNS]
    assert back["context_agreement"].notna().any()


@pytest.mark.parametrize("case", ["foreign", "layers", "file", "nowhere"])
def test_bad_activations_exit_2_and_write_nothing(world, case, tmp_path):
    source = {"foreign": world["foreign"], "layers": world["layer0"],
              "file": world["proj"] / "manifest.json", "nowhere": tmp_path / "none"}[case]  # fmt: skip
    target = tmp_path / "ann.parquet"
    done = _cli("annotate", world["proj"], "--activations", source, "--out", target, "-q")
    assert done.exit_code == 2, done.output
    assert done.output.startswith("Error:") and len(done.output.strip().splitlines()) == 1
    assert not target.exists()
    want = {"foreign": "activations of", "layers": "no activations of layer 1",
            "file": "is not a folder", "nowhere": "is not a folder"}[case]  # fmt: skip
    assert want in done.output
    error = InputError if case in ("foreign", "layers") else ResultFileError
    with pytest.raises(error):
        annotate_projections(world["proj"], activations=source)


def test_a_layer_file_is_checked_against_its_folder_manifest(world):
    layer_file = world["proj"] / "layer_000.parquet"
    with pytest.raises(InputError, match="activations of"):
        annotate_projections(layer_file, activations=world["foreign"])
    with pytest.raises(InputError, match="context tokens"):
        annotate_projections(layer_file, activations=world["acts"], context_tokens="prefix")
