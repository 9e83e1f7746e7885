"""Typed exceptions. Every error a user can cause is a :class:`VocabLensError` with a one-line message."""

from __future__ import annotations


class VocabLensError(Exception):
    """Base class of every error vocablens raises on purpose (bad input, unsupported model, ...)."""


class ModelLoadError(VocabLensError):
    """A model spec that cannot be loaded: missing path, unreadable file, unreachable hub."""


class UnsupportedModelError(VocabLensError):
    """A model whose architecture the architecture view does not know."""


class InputError(VocabLensError):
    """Bad user input: empty prompt, prompt too long, layer out of range, multi-token target, ..."""


class ResultFileError(VocabLensError):
    """A results file that is missing, corrupt or of the wrong kind."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none).

    Third-party errors (transformers, pyarrow) often span many lines; a vocablens message is one.
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
