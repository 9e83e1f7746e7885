"""``vocablens project``: Parquet output, manifest, resume after an interruption, bad input."""

from __future__ import annotations

import json
import os
import stat

import pandas as pd
import pytest
from click.testing import CliRunner

from vocablens import ResultFileError
from vocablens.cli import main
from vocablens.project import files as projfile
from vocablens.project.files import read_projections
from vocablens.project.projector import project

from tiny_models import save_tiny_model, single_thread

ARGS = ["--what", "values,keys,ov,qk", "-k", "3", "-q"]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_thread():
        yield


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return str(save_tiny_model("gpt2", tmp_path_factory.mktemp("tiny-gpt2")))


def _invoke(*args):
    return CliRunner().invoke(main, ["project", *map(str, args)])


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["kind", "layer", "index", "sign", "rank"]
    return frame.sort_values(keys).reset_index(drop=True)


def test_writes_layers_and_manifest(model_dir, tmp_path):
    out = tmp_path / "proj"
    result = _invoke(model_dir, "--out", out, *ARGS)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "layer_000.parquet",
        "layer_001.parquet",
        "manifest.json",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["finished"] == {
        "0": "layer_000.parquet",
        "1": "layer_001.parquet",
    }
    assert manifest["options"]["what"] == ["values", "keys", "ov", "qk"]
    assert manifest["model"] == model_dir and "torch" in manifest["versions"]
    umask = os.umask(0)
    os.umask(umask)
    for file in out.iterdir():  # not mkstemp's 0600: other users (a report server) can read
        assert stat.S_IMODE(file.stat().st_mode) == 0o666 & ~umask
    frame = read_projections(out)
    expected = project(model_dir, "values,keys,ov,qk", k=3).to_pandas()
    pd.testing.assert_frame_equal(_sorted(frame), _sorted(expected))
    one = read_projections(out / "layer_001.parquet")
    assert set(one.layer) == {1} and set(one.kind) == set(expected.kind)


def test_resume_after_interruption(model_dir, tmp_path, monkeypatch):
    out = tmp_path / "proj"
    written = []
    real_write = projfile.write_table

    def write_then_die(frame, path):
        if written:  # the second layer: die half-way through writing its file
            path.with_name(f".{path.name}.x1y2.tmp").write_bytes(b"PAR1 half")  # as if killed
            raise KeyboardInterrupt
        real_write(frame, path)
        written.append(path.name)

    monkeypatch.setattr(projfile, "write_table", write_then_die)
    result = _invoke(model_dir, "--out", out, *ARGS)
    assert result.exit_code != 0
    assert not (out / "layer_001.parquet").exists()
    assert json.loads((out / "manifest.json").read_text())["finished"] == {"0": "layer_000.parquet"}

    monkeypatch.setattr(
        projfile, "write_table", lambda f, p: (written.append(p.name), real_write(f, p))
    )
    mtime = (out / "layer_000.parquet").stat().st_mtime_ns
    result = _invoke(model_dir, "--out", out, *ARGS)
    assert result.exit_code == 0, result.output
    assert written == ["layer_000.parquet", "layer_001.parquet"]  # layer 0 was not redone
    assert (out / "layer_000.parquet").stat().st_mtime_ns == mtime
    assert not list(out.glob(".*.tmp")), "stale temporary files are cleaned up"
    expected = project(model_dir, "values,keys,ov,qk", k=3).to_pandas()
    pd.testing.assert_frame_equal(_sorted(read_projections(out)), _sorted(expected))


def test_atomic_write_leaves_no_file_on_failure(tmp_path, monkeypatch):
    frame = pd.DataFrame({name: [] for name in projfile.COLUMNS})

    def broken(table, where, **kwargs):
        with open(where, "wb") as handle:
            handle.write(b"PAR1 truncated")
        raise OSError("disk full")

    monkeypatch.setattr(projfile.pq, "write_table", broken)
    with pytest.raises(OSError):
        projfile.write_table(frame, tmp_path / "layer_000.parquet")
    assert list(tmp_path.iterdir()) == []


def test_layers_option_and_resume_with_more_layers(model_dir, tmp_path):
    out = tmp_path / "proj"
    assert _invoke(model_dir, "--out", out, *ARGS, "--layers", "1").exit_code == 0
    assert set(read_projections(out).layer) == {1}
    assert _invoke(model_dir, "--out", out, *ARGS, "--layers", "0-1").exit_code == 0
    assert set(read_projections(out).layer) == {0, 1}


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--layers", "0-9"], "out of range"),
        (["--layers", "x"], "bad layer list"),
        (["--what", "heads"], "unknown projection"),
        (["-k", "0"], "top-k"),
    ],
)
def test_bad_input_exits_2(model_dir, tmp_path, extra, message):
    result = _invoke(model_dir, "--out", tmp_path / "proj", *ARGS, *extra)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_other_options_in_same_folder_exit_2(model_dir, tmp_path):
    out = tmp_path / "proj"
    assert _invoke(model_dir, "--out", out, *ARGS).exit_code == 0
    result = _invoke(model_dir, "--out", out, *ARGS, "-k", "4")
    assert result.exit_code == 2 and "other options" in result.output


def test_missing_model_exits_2(tmp_path):
    result = _invoke(tmp_path / "nothing-here", "--out", tmp_path / "proj", *ARGS)
    assert result.exit_code == 2


def test_read_projections_errors(tmp_path):
    with pytest.raises(ResultFileError):
        read_projections(tmp_path / "missing")
    with pytest.raises(ResultFileError, match="manifest"):
        read_projections(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ResultFileError, match="corrupt"):
        read_projections(tmp_path)
    bad = tmp_path / "layer_000.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(ResultFileError, match="corrupt"):
        read_projections(bad)
    pd.DataFrame({"kind": ["values"]}).to_parquet(bad)
    with pytest.raises(ResultFileError, match="not a projections file"):
        read_projections(bad)
    (tmp_path / "manifest.json").write_text(
        json.dumps({"format": projfile.FORMAT, "finished": {"0": "layer_009.parquet"}})
    )
    with pytest.raises(ResultFileError, match="not found"):
        read_projections(tmp_path)


def test_readout_option_writes_one_table_per_readout(model_dir, tmp_path):
    out = tmp_path / "proj"
    args = ["--what", "values,ov", "-k", "3", "-q", "--layers", "1"]
    result = _invoke(model_dir, "--out", out, *args, "--readout", "raw,cosine,csls", "--hub-k", "4")
    assert result.exit_code == 0, result.output
    frame = read_projections(out)
    values = frame[frame.kind == "values"]
    assert set(values.readout) == {"raw", "cosine", "csls"}
    assert set(frame[frame.kind == "ov"].readout) == {"raw"}
    expected = project(model_dir, "values", layers=[1], k=3, readouts="csls", hub_k=4).to_pandas()
    got = values[values.readout == "csls"].reset_index(drop=True)
    pd.testing.assert_frame_equal(_sorted(got), _sorted(expected))
    options = json.loads((out / "manifest.json").read_text())["options"]
    assert options["readouts"] == ["raw", "cosine", "csls"] and options["hub"]["k"] == 4
    assert json.loads((out / "manifest.json").read_text())["format_version"] == 3
    again = _invoke(model_dir, "--out", out, *args, "--readout", "raw")
    assert again.exit_code == 2 and "other options" in again.output


@pytest.mark.parametrize("bad", ["cos", "raw,nearest", ","])
def test_bad_readout_is_one_line_exit_2(model_dir, tmp_path, bad):
    result = _invoke(model_dir, "--out", tmp_path / "p", "--readout", bad)
    assert result.exit_code == 2
    assert result.output.strip().startswith("Error:") and "readout" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "p").exists()


def test_old_format_reads_as_raw(tmp_path):
    import pyarrow.parquet as pq

    frame = project(save_tiny_model("llama", tmp_path / "m"), "values", layers=[0], k=2).to_pandas()
    path = tmp_path / "old.parquet"
    pq.write_table(pa_table_without(frame, "readout"), path)
    assert set(read_projections(path).readout) == {"raw"}


def pa_table_without(frame, column):
    import pyarrow as pa

    return pa.Table.from_pandas(frame.drop(columns=[column]), preserve_index=False)
