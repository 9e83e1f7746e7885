"""The built-in example prompts, and reading prompts from a file (one per line)."""

from __future__ import annotations

import os
from pathlib import Path

from vocablens.errors import InputError

#: The prompts a report reads when none are given: facts, counting, code, a list, plain prose.
DEFAULT_PROMPTS: tuple[str, ...] = (
    "The capital of France is",
    "The Eiffel Tower is located in the city of",
    "Barack Obama was born in the state of",
    "Monday, Tuesday, Wednesday, Thursday,",
    "1, 2, 3, 4, 5, 6,",
    "The opposite of hot is",
    "def add(a, b):\\n    return",
    "She opened the fridge and took out a bottle of",
)

_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\"}


def unescape(line: str) -> str:
    r"""Turn the escapes ``\\n``, ``\\t`` and ``\\\\`` of a prompts-file line into characters.

    Any other backslash is kept as it is.
    """
    out, i = [], 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] in _ESCAPES:
            out.append(_ESCAPES[line[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_prompts(text: str) -> list[str]:
    r"""Prompts from the text of a prompts file.

    One prompt per line; blank lines and lines starting with ``#`` are skipped; ``\\n``, ``\\t``
    and ``\\\\`` stand for a newline, a tab and a backslash (prompts with several lines).
    """
    prompts = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        prompts.append(unescape(line))
    return prompts


def default_prompts() -> list[str]:
    """The built-in example prompts, escapes resolved."""
    return [unescape(p) for p in DEFAULT_PROMPTS]


def read_prompts(path: str | os.PathLike[str]) -> list[str]:
    """Read a prompts file (see :func:`parse_prompts`).

    Raises:
        InputError: the file is missing, unreadable, not UTF-8, or holds no prompt.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"prompts file {path} is a folder")
    if not path.is_file():
        raise InputError(f"prompts file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"prompts file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"cannot read prompts file {path}: {exc.strerror or exc}") from None
    prompts = parse_prompts(text)
    if not prompts:
        raise InputError(f"prompts file {path} holds no prompt (one prompt per line)")
    return prompts
