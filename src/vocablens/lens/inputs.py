"""The logit lens's input checks: prompts to token ids, the target token, the sites to read.

Each check raises an :class:`~vocablens.errors.InputError` with a one-line message that names
the library argument and the CLI flag together (``truncate=True / --truncate``), so that it reads
right from Python and from every command that reaches it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vocablens.errors import InputError
from vocablens.layerspec import layer_list
from vocablens.model.hooks import SITES, Site
from vocablens.tokens import token_strings

Prompt = str | Sequence[int]


def check_text(text: str, what: str = "prompt") -> str:
    """Check that ``text`` is valid Unicode text (returns it).

    Command-line arguments that are not valid UTF-8 arrive as strings with lone surrogates
    (Python's ``surrogateescape``); no tokenizer can read them.

    Raises:
        InputError: ``text`` holds lone surrogates.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{what} {text!r} is not valid UTF-8 text") from None
    return text


def check_prompt(prompt: Prompt) -> Prompt:
    """The checks of a prompt that need no model: not empty, and text that is valid UTF-8.

    Raises:
        InputError: an empty prompt, or text with lone surrogates (see :func:`check_text`).
    """
    if isinstance(prompt, str):
        if not prompt.strip():
            raise InputError("empty prompt")
        check_text(prompt)
    elif not len(prompt):
        raise InputError("empty prompt")
    return prompt


def tokenize(
    prompt: Prompt,
    tokenizer: Any,
    vocab_size: int,
    context_length: int | None,
    *,
    bos: bool = False,
    truncate: bool = False,
) -> list[int]:
    """Token ids of one prompt, as the tokenizer does by default (plus BOS when asked).

    Args:
        prompt: a string or a list of token ids.
        tokenizer: the model's tokenizer (None: only token ids can be given).
        vocab_size: the number of token ids (rows of ``W_E``).
        context_length: the model's longest input (None: no limit known).
        bos: prepend the BOS token (unless the prompt already starts with it).
        truncate: keep the first ``context_length`` tokens of a longer prompt instead of failing.

    Raises:
        InputError: empty or not UTF-8, no tokenizer for a text prompt, a prompt that gives no
            tokens, ids out of range, or a prompt longer than the context (unless ``truncate``).
    """
    check_prompt(prompt)
    if isinstance(prompt, str):
        if tokenizer is None:
            raise InputError("this model has no tokenizer: pass token ids instead of text")
        ids = [int(i) for i in tokenizer(prompt)["input_ids"]]
        if not ids:
            raise InputError(f"prompt {prompt!r} gives no tokens")
    else:
        ids = [int(i) for i in prompt]
        if min(ids) < 0 or max(ids) >= vocab_size:
            raise InputError(f"token ids must lie in 0..{vocab_size - 1}")
    if bos:
        bos_id = getattr(tokenizer, "bos_token_id", None)
        if bos_id is None:
            raise InputError("the tokenizer has no BOS token")
        if ids[0] != bos_id:
            ids = [bos_id, *ids]
    if context_length is not None and len(ids) > context_length:
        if not truncate:
            raise InputError(
                f"prompt has {len(ids)} tokens, more than the model's context of "
                f"{context_length}; pass truncate=True / --truncate to keep the first ones"
            )
        ids = ids[:context_length]
    return ids


def target_id(target: str | int | None, tokenizer: Any, vocab_size: int) -> int | None:
    """The id of a target token; a string must be exactly one token.

    Raises:
        InputError: an id out of range, text that is not UTF-8, or a string that splits into
            several tokens (they are named) or none.
    """
    if target is None or isinstance(target, int):
        if isinstance(target, int) and not 0 <= target < vocab_size:
            raise InputError(f"target id {target} out of range 0..{vocab_size - 1}")
        return target
    check_text(target, "target")
    if tokenizer is None:
        raise InputError("this model has no tokenizer: give the target as a token id")
    ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        pieces = ", ".join(repr(t) for t in token_strings(tokenizer, ids))
        raise InputError(
            f"target {target!r} is not a single token: it splits into {len(ids)} ({pieces})"
        )
    return int(ids[0])


def site_rows(
    n_layers: int, sites: Sequence[str] = ("resid",), layers: Sequence[int] | None = None
) -> list[Site]:
    """The ``(site, layer)`` rows to read; ``layers`` filters them (None: all).

    ``resid`` has layers ``0..n_layers`` (entering each block, then the last block's output);
    the other sites ``0..n_layers-1``.

    Raises:
        InputError: an unknown site name, a layer out of range, or nothing left to read.
    """
    for name in sites:
        if name not in SITES:
            raise InputError(f"unknown site {name!r}; choose from {', '.join(SITES)}")
    if layers is not None:  # resid has one layer more than the blocks
        layers = layer_list(layers, n_layers + 1 if "resid" in sites else n_layers)
    rows: list[Site] = []
    for name in sites:
        count = n_layers + 1 if name == "resid" else n_layers
        rows += [(name, lay) for lay in range(count) if layers is None or lay in layers]
    if not rows:
        raise InputError("no site/layer to read")
    return rows
