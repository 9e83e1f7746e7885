"""Every ```python and ```sh block of README.md runs as written.

* The blocks run in README order, all in one temporary folder (the working directory): a later
  block may read what an earlier one wrote (the Annotate section reads its projection folder), so
  run this file whole rather than one block alone.
* A ``python`` block is executed in a fresh namespace, in this process (the model loads from the
  de-quantized cache).
* In a ``sh`` block every line is a command: a ``vocablens ...`` line runs through click's
  CliRunner (split like a shell would, a trailing ``# comment`` dropped) and must exit 0; a
  ``make ...`` line is skipped (it builds the environment or the full demo report: the Makefile's
  job, run by ``make test`` / ``make demo`` themselves); any other command fails the test, so a
  new kind of line is never skipped silently.
* A block right after a ``<!-- no-test -->`` line is not run. Use it sparingly.

Blocks with another language (or none: the JSON layout, the source tree) are not code.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
NO_TEST = "<!-- no-test -->"
_FENCE = re.compile(r"^\s*```(\w*)\s*$")


@dataclass
class Block:
    """One fenced code block: its language, first code line (1-based) and text."""

    lang: str
    line: int
    code: str
    skipped: bool

    @property
    def name(self) -> str:
        return f"README.md:{self.line}:{self.lang}"


def blocks(text: str) -> list[Block]:
    """The ``python`` and ``sh`` blocks of a Markdown text, in order."""
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        lang, start = opening.group(1), i + 1
        end = start
        while end < len(lines) and not re.match(r"^\s*```\s*$", lines[end]):
            end += 1
        before = [line.strip() for line in lines[:i] if line.strip()]
        if lang in ("python", "sh"):
            code = "\n".join(lines[start:end])
            skipped = bool(before) and before[-1] == NO_TEST
            found.append(Block(lang, start + 1, code, skipped))
        i = end + 1
    return found


def commands(code: str) -> list[list[str]]:
    r"""The commands of a ``sh`` block: one per line (``\`` continues a line), shell-split."""
    joined = code.replace("\\\n", " ")
    return [words for line in joined.splitlines() if (words := shlex.split(line, comments=True))]


README_BLOCKS = blocks(README.read_text(encoding="utf-8"))


def test_blocks_are_found():
    """The extraction sees the README's examples (a broken fence would hide them all)."""
    langs = [b.lang for b in README_BLOCKS]
    assert langs.count("python") >= 3 and langs.count("sh") >= 3


def test_extraction_rules():
    """Fences, languages, line numbers and the no-test marker, on a small text."""
    text = "\n".join(
        ["# t", "```python", "x = 1", "```", "", NO_TEST, "", "```sh", "make demo", "```",
         "```", "{not code}", "```", "```sh", "vocablens lens m 'a b' \\", "  --layers 0-1  # c",
         "```"]
    )  # fmt: skip
    found = blocks(text)
    assert [(b.lang, b.line, b.skipped) for b in found] == [
        ("python", 3, False),
        ("sh", 9, True),
        ("sh", 15, False),
    ]
    assert commands(found[2].code) == [["vocablens", "lens", "m", "a b", "--layers", "0-1"]]


@pytest.mark.parametrize(
    "block", [b for b in README_BLOCKS if b.lang == "python"], ids=lambda b: b.name
)
def test_python_blocks_compile(block):
    """Every python block is valid Python (fast; running them is the slow test below)."""
    compile(block.code, block.name, "exec")


@pytest.mark.parametrize(
    "block", [b for b in README_BLOCKS if b.lang == "sh"], ids=lambda b: b.name
)
def test_sh_lines_are_known(block):
    """Every sh line is a ``vocablens`` or ``make`` command (the slow test runs the former)."""
    for words in commands(block.code):
        assert words[0] in ("vocablens", "make"), f"{block.name}: cannot run {words[0]!r}"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """The one folder all blocks run in, in README order."""
    return tmp_path_factory.mktemp("readme")


def run_sh(block: Block) -> str:
    """Run the ``vocablens`` lines of a sh block; returns their output."""
    from click.testing import CliRunner

    from vocablens.cli import main

    output = []
    for words in commands(block.code):
        if words[0] == "make":
            continue  # the Makefile's own targets: not README examples to run here
        assert words[0] == "vocablens", f"{block.name}: cannot run {words[0]!r}"
        res = CliRunner().invoke(main, words[1:])
        assert res.exit_code == 0, f"{block.name}: {shlex.join(words)}\n{res.output}"
        output.append(res.output)
    return "".join(output)


def run_python(block: Block) -> str:
    """Execute a python block in a fresh namespace; returns what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block.code, block.name, "exec"), {"__name__": "__readme__"})
    return out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("block", README_BLOCKS, ids=lambda b: b.name)
def test_readme_block_runs(block, workdir, monkeypatch):
    """The block runs as written, in the shared folder."""
    if block.skipped:
        pytest.skip(f"{block.name} is marked {NO_TEST}")
    monkeypatch.chdir(workdir)
    if block.lang == "python":
        run_python(block)
    else:
        run_sh(block)
