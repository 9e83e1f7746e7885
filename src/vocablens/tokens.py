"""Token strings for people: decode ids one by one, and make invisible characters visible."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_VISIBLE = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def visible(text: str) -> str:
    r"""Show control characters visibly: ``\\n``, ``\\t``, ``\\r`` and ``⟨0xNN⟩`` for the rest.

    Spaces stay as they are (a leading space is meaningful: ``" Paris"`` is a word start).
    """
    out = []
    for ch in text:
        if ch in _VISIBLE:
            out.append(_VISIBLE[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            out.append(f"⟨0x{ord(ch):02X}⟩")
        else:
            out.append(ch)
    return "".join(out)


def token_strings(tokenizer: Any, ids: Sequence[int], *, readable: bool = True) -> list[str]:
    """Decode each id on its own.

    Args:
        tokenizer: a ``transformers`` tokenizer, or None (ids are shown as ``⟨id⟩``).
        ids: token ids.
        readable: make control characters visible (see :func:`visible`).

    Returns:
        One string per id, e.g. ``" Paris"`` for the byte-level BPE token ``ĠParis``.
    """
    ids = [int(i) for i in ids]
    if tokenizer is None:
        return [f"⟨{i}⟩" for i in ids]
    texts = tokenizer.batch_decode([[i] for i in ids], clean_up_tokenization_spaces=False)
    return [visible(t) if readable else t for t in texts]
