"""Resumption and sharding give the same tables as one uninterrupted process, bit for bit.

* A run in a subprocess is killed (SIGKILL) once a few chunks are checkpointed, then started
  again here: it resumes after the last finished chunk.
* The same run under ``torchrun --nproc_per_node 2`` (gloo, CPU): each rank takes every other
  chunk; rank 0 merges.

Every process runs torch on one thread (torchrun's default, and the tests' fixture), so each
chunk's forward pass is the same computation everywhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from act_helpers import SMALL, assert_same_run, model_dir, run, write_corpus

from vocablens.activations import files

from tiny_models import single_thread

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=SRC)
    env.pop("WORLD_SIZE", None)
    return env


def _setup(tmp: Path, family: str):
    folder = model_dir(family, tmp / family)
    corpus = write_corpus(tmp / "corpus.jsonl", n_docs=60)
    with single_thread():  # module fixtures run before the one-thread fixture
        reference = run(str(folder), tmp / "reference", corpus, agree_k=3)
    return tmp, folder, corpus, reference


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return _setup(tmp_path_factory.mktemp("resume"), "llama")


@pytest.fixture(scope="module")
def moe_setup(tmp_path_factory):
    """The same with a mixture-of-experts model (one state per expert)."""
    return _setup(tmp_path_factory.mktemp("resume_moe"), "mixtral")


_SLOW_RUN = """
import sys, time, torch
from pathlib import Path
torch.set_num_threads(1)
import vocablens.activations.run as r
r.after_chunk = lambda index: time.sleep(0.4)
r.activations_to_dir(r.ActivationsConfig(model=sys.argv[1], out=Path(sys.argv[2]),
    corpus=sys.argv[3], agree_k=3, **{options}))
"""


def test_killed_run_resumes_to_identical_results(setup):
    tmp, folder, corpus, reference = setup
    out = tmp / "killed"
    script = _SLOW_RUN.format(options=repr(SMALL))
    proc = subprocess.Popen([sys.executable, "-c", script, str(folder), str(out), str(corpus)],
                            env=_env())  # fmt: skip
    checkpoint = out / files.CHECKPOINTS / "rank0of1.npz"
    deadline = time.time() + 120
    try:
        while time.time() < deadline and proc.poll() is None:
            if checkpoint.is_file():
                time.sleep(1.0)  # a few more chunks
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    manifest = json.loads((out / files.MANIFEST).read_text())
    assert not manifest["complete"] and checkpoint.is_file()
    assert not list(out.glob("*.parquet"))
    run(str(folder), out, corpus, agree_k=3)  # resume
    assert not (out / files.CHECKPOINTS).exists()
    assert_same_run(reference, out)


@pytest.mark.slow  # two fresh Python processes importing torch and transformers: ~30 s
@pytest.mark.parametrize("which", ["setup", "moe_setup"])
def test_torchrun_two_processes_equal_one(which, request):
    tmp, folder, corpus, reference = request.getfixturevalue(which)
    out = tmp / "sharded"
    script = tmp / "cli.py"
    script.write_text("from vocablens.cli import main\nmain()\n")
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc_per_node", "2", str(script)]  # fmt: skip
    args = ["activations", str(folder), "--corpus", str(corpus), "--out", str(out), "-q",
            "--top-k", "3", "--chunk-tokens", str(SMALL["chunk_tokens"]),
            "--seq-len", str(SMALL["seq_len"]), "--top-n", str(SMALL["top_n"]),
            "--context", str(SMALL["context"])]  # fmt: skip
    done = subprocess.run(torchrun + args, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    manifest = json.loads((out / files.MANIFEST).read_text())
    assert manifest["processes"] == 2 and manifest["complete"]
    assert_same_run(reference, out)
