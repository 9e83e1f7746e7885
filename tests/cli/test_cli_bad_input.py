"""Every bad input, in every subcommand: one line ``Error: …`` on stderr, exit 2, nothing written.

Each class of failure (output paths, devices, text, hub ids, option values, layer lists) is run
through every subcommand it applies to, with click's CliRunner on a tiny model directory.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from vocablens.cli import main
from vocablens.project.run import ProjectConfig, project_to_dir

from tiny_models import tiny_model
from tiny_tokenizer import save_tiny, tiny_tokenizer

WRITERS = ("lens", "project", "annotate", "report")
#: The writers that load a model, so take --device (annotate reads tables only).
MODEL_WRITERS = ("lens", "project", "report")
FAST_REPORT = ("--no-umap", "--no-annotate", "--no-ov", "-q")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from tokenizers import normalizers

    model, _ = tiny_model("llama", seed=1)
    tokenizer = tiny_tokenizer(160)
    # Like BERT's tokenizers: control characters are dropped, so "\x07" gives no tokens.
    tokenizer.backend_tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False
    )
    return str(save_tiny(model, tokenizer, tmp_path_factory.mktemp("tiny") / "llama"))


@pytest.fixture(scope="module")
def projections(model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("proj") / "proj"
    return project_to_dir(
        ProjectConfig(model=model_dir, out=out, what="values", k=5, progress=False)
    )


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def command_args(name: str, model_dir: str, projections: Path, out: str | None) -> list[str]:
    """A complete, valid command line of subcommand ``name`` writing to ``out``."""
    if name == "lens":
        return ["lens", model_dir, "w5 w6", *(["--json", out] if out else [])]
    if name == "project":
        return ["project", model_dir, "--what", "values", "-q", "--out", out or "proj"]
    if name == "annotate":
        return ["annotate", str(projections), "-q", "--out", out or "a.parquet"]
    return ["report", model_dir, *FAST_REPORT, "--out", out or "report"]


def refused(args, message: str, folder: Path | None = None, check_flags: bool = True) -> str:
    """Run ``args``; check the refusal (and that ``folder`` is unchanged); return the line."""
    before = tree(folder) if folder is not None else None
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.output
    assert message in lines[0], lines[0]
    assert "Traceback" not in res.output and not res.stdout.strip(), res.output
    if folder is not None:
        assert tree(folder) == before, "a refused run wrote something"
    command = main.commands.get(str(args[0]))
    if command is not None and check_flags:  # an error never recommends an option the command lacks
        known = {"--help"} | {opt for p in command.params for opt in getattr(p, "opts", [])}
        for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", lines[0]):
            assert flag in known, f"{args[0]} has no {flag}: {lines[0]}"
    return lines[0]


# ----- output paths ---------------------------------------------------------------------------
FILE_TARGETS = {"lens": "out.json", "annotate": "a.parquet"}


@pytest.mark.parametrize("name", WRITERS)
def test_output_under_a_regular_file(name, model_dir, projections, tmp_path):
    (tmp_path / "plain").write_text("x")
    out = tmp_path / "plain" / "deeper" / FILE_TARGETS.get(name, "out")
    refused(command_args(name, model_dir, projections, str(out)), "is a file", tmp_path)


@pytest.mark.parametrize("name", ["lens", "annotate"])
def test_file_output_that_is_a_folder(name, model_dir, projections, tmp_path):
    (tmp_path / "folder").mkdir()
    args = command_args(name, model_dir, projections, str(tmp_path / "folder"))
    refused(args, "it is a folder", tmp_path)


@pytest.mark.parametrize("name", ["project", "report"])
def test_folder_output_that_is_a_file(name, model_dir, projections, tmp_path):
    (tmp_path / "plain").write_text("x")
    args = command_args(name, model_dir, projections, str(tmp_path / "plain"))
    refused(args, "it is a file", tmp_path)


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs a read-only /sys")
@pytest.mark.parametrize("name", WRITERS)
def test_output_that_cannot_be_written(name, model_dir, projections):
    out = f"/sys/vocablens-test-{name}/{FILE_TARGETS.get(name, 'out')}"
    if name in FILE_TARGETS:
        out = f"/sys/vocablens-test-{FILE_TARGETS[name]}"
    refused(command_args(name, model_dir, projections, out), "not writable")
    assert not Path(out).exists()


@pytest.mark.parametrize("name", ["lens", "annotate"])
def test_file_output_in_a_missing_folder(name, model_dir, projections, tmp_path):
    out = tmp_path / "nope" / FILE_TARGETS[name]
    refused(command_args(name, model_dir, projections, str(out)), "does not exist", tmp_path)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--top-k", "0"], "Invalid value for '--top-k'"),
        (["--layers", "0-9"], "out of range"),  # found only once the model is loaded
        (["--what", "heads"], "unknown projection"),
    ],
)
def test_refused_project_leaves_no_folder(model_dir, tmp_path, extra, message):
    out = tmp_path / "out" / "proj"
    refused(["project", model_dir, "--out", out, "-q", *extra], message, tmp_path)
    assert not (tmp_path / "out").exists()


def test_failure_before_the_first_layer_removes_the_new_folder(model_dir, tmp_path, monkeypatch):
    from vocablens.project import files as projfile

    def die(frame, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(projfile, "write_table", die)
    out = tmp_path / "proj"
    with pytest.raises(KeyboardInterrupt):
        project_to_dir(ProjectConfig(model=model_dir, out=out, what="values", progress=False))
    assert not out.exists()
    (tmp_path / "kept").mkdir()  # a folder the user made stays, even when the run fails
    with pytest.raises(KeyboardInterrupt):
        project_to_dir(
            ProjectConfig(model=model_dir, out=tmp_path / "kept", what="values", progress=False)
        )
    assert (tmp_path / "kept").is_dir()


@pytest.mark.parametrize("name", WRITERS)
def test_bad_layer_list_everywhere(name, model_dir, projections, tmp_path):
    args = command_args(name, model_dir, projections, str(tmp_path / "x"))
    refused([*args, "--layers", "3-x"], "bad layer list '3-x'", tmp_path)


def test_top_k_is_one_option():
    helps = {name: next(p for p in main.commands[name].params if p.name == "top_k")
             for name in WRITERS}  # fmt: skip
    assert len({p.help for p in helps.values()}) == 1
    assert all(p.opts == ["--top-k", "-k"] for p in helps.values())
    for name in ("device", "layers", "quiet", "out"):
        texts = {str(p.help) for c in main.commands.values() for p in c.params if p.name == name}
        if name != "out":
            assert len(texts) == 1, (name, texts)
    for name in WRITERS:  # every subcommand that loads a model takes --device, no other
        params = {p.name for p in main.commands[name].params}
        assert ("device" in params) is (name in MODEL_WRITERS), name


# ----- devices --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODEL_WRITERS)
@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("cuda", "device 'cuda' is not available"),
        ("mps", "device 'mps' is not available"),
        ("gpu", "unknown device 'gpu'"),
        ("meta", "device 'meta' cannot compute"),
    ],
)
def test_bad_device_everywhere(name, device, message, model_dir, projections, tmp_path,
                               monkeypatch):  # fmt: skip
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    args = command_args(name, model_dir, projections, str(tmp_path / "x"))
    refused([*args, "--device", device], message, tmp_path)


def test_cuda_index_beyond_the_gpus(model_dir, projections, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    args = command_args("lens", model_dir, projections, None)
    refused([*args, "--device", "cuda:7"], "this machine has 1 CUDA device (cuda:0..0)", tmp_path)


# ----- text -----------------------------------------------------------------------------------
def test_prompt_not_utf8(model_dir, tmp_path):
    # What Python makes of the argument bytes b"w5 \xff" (surrogateescape).
    refused(["lens", model_dir, "w5 \udcff"], "is not valid UTF-8 text", tmp_path)
    refused(["lens", model_dir, "w5", "--target", "\udcff"], "target", tmp_path)


def test_prompt_with_no_tokens(model_dir, tmp_path):
    refused(["lens", model_dir, "\x07", "--json", tmp_path / "a.json"], "gives no tokens", tmp_path)


def test_report_long_prompt_names_its_own_flag(model_dir, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text(" ".join(["w5"] * 80) + "\n")
    out = tmp_path / "rep"
    line = refused(["report", model_dir, "--prompts", prompts, "--out", out, *FAST_REPORT],
                   "more than the model's context of 64")  # fmt: skip
    assert "--truncate" in line and not out.exists()
    res = CliRunner().invoke(main, ["report", model_dir, "--prompts", str(prompts), "--out",
                                    str(out), "--truncate", "--bos", *FAST_REPORT])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (out / "index.html").is_file()


# ----- model specs ----------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["./no/such/model", "/no/such/model", "~/no-such-model-dir/x/y"])
def test_missing_local_path(spec, tmp_path):
    refused(["lens", spec, "w5"], "model path does not exist", tmp_path)


@pytest.mark.parametrize("offline", ["1", None])
def test_hub_id_without_network_fails_fast(offline, tmp_path, monkeypatch):
    import time

    if offline is None:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    else:
        monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    start = time.perf_counter()
    line = refused(["lens", "no-such-owner/no-such-model-xyz", "w5"], "no-such-owner", tmp_path)
    assert time.perf_counter() - start < 20
    assert "no local path of that name" in line
    assert "Retrying" not in line


def test_usage_errors_are_one_line(model_dir, tmp_path):
    line = refused(["lens", model_dir], "Missing argument 'PROMPTS...'", tmp_path)
    assert "vocablens lens --help" in line or "lens --help" in line
    refused(["project", model_dir, "--out", tmp_path / "p", "--frobnicate"], "No such option",
            check_flags=False)  # fmt: skip
    refused(["lens", model_dir, "w5", "--top-k", "x"], "is not a valid integer")


# ----- the model is resolved once -------------------------------------------------------------
@pytest.mark.parametrize("name", ["lens", "project", "report"])
def test_model_loaded_once(name, model_dir, projections, tmp_path, monkeypatch):
    import vocablens.model.loading as loading

    calls = []
    real = loading._load_spec

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(loading, "_load_spec", counting)
    args = command_args(name, model_dir, projections, str(tmp_path / "out"))
    if name == "report":
        args = [a for a in args if a != "--no-ov"]  # the OV projections reuse the model too
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert calls == [model_dir]


# ----- the library's input checks (what every command reaches) -------------------------------
def test_library_text_checks():
    from vocablens.errors import InputError
    from vocablens.lens.inputs import check_prompt, target_id, tokenize

    def no_tokens(text, **kwargs):
        return {"input_ids": []}

    with pytest.raises(InputError, match="gives no tokens"):
        tokenize("\x07", no_tokens, 10, None)
    with pytest.raises(InputError, match="not valid UTF-8"):
        check_prompt("caf\udce9")
    with pytest.raises(InputError, match="target '\\\\udcff' is not valid UTF-8"):
        target_id("\udcff", no_tokens, 10)
    with pytest.raises(InputError, match="empty prompt"):
        check_prompt([])
    with pytest.raises(InputError, match=re.escape("pass truncate=True / --truncate")):
        tokenize([1] * 9, None, 10, 8)
    assert tokenize([1] * 9, None, 10, 8, truncate=True) == [1] * 8
