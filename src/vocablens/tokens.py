r"""Token strings for people: decode ids one by one, and show every token the same way everywhere.

Two forms of a token's text:

* **text** (:func:`token_strings`, :func:`visible`): what the data holds — the lens JSON,
  ``LensResult.to_pandas``, the projection and annotation tables. Spaces stay spaces
  (``" Paris"`` is a word start), newline / tab / carriage return are ``\n``, ``\t``, ``\r``,
  other control characters ``⟨0x07⟩``, and a byte of a multi-byte character that a byte-level
  token holds alone (``日`` is the pieces ``E6 97`` + ``A5``) is ``⟨E6⟩``, never ``�``.
* **shown** (:func:`shown`): how every view draws it — the terminal table (``LensResult.table``,
  the CLI), the HTML report and the PNG figures. The text, and also: a leading or trailing space
  is ``␣`` (``␣Paris``; a token of spaces only is ``␣``, ``␣␣``, …, never an empty chip; inner
  spaces stay), and characters that draw as nothing or as blank — format characters
  (zero-width, bidi controls), line and paragraph separators, surrogates, private-use and
  unassigned code points, and every space other than U+0020 (NBSP, em space, …) — are
  ``⟨U+00A0⟩``, ``⟨U+200B⟩``, ``⟨U+2028⟩``.

Both are idempotent (``shown(shown(t)) == shown(t)``) and :func:`shown` accepts raw text or
the text form. A token whose own text holds ``␣`` or ``⟨…⟩`` literally reads like the marker;
its id tells them apart.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from vocablens.model.tokenizer import piece_bytes, piece_texts

_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
# format, surrogate, private use, unassigned, line / paragraph separator, non-ASCII spaces
_BLANK = ("Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")
#: How a space at either end of a shown token looks.
SPACE = "␣"


def _control(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return f"⟨0x{code:02X}⟩"
    return ch


def visible(text: str) -> str:
    r"""The text form: control characters visible (``\n``, ``\t``, ``\r``, ``⟨0xNN⟩``).

    Spaces and every other character stay as they are (see the module docstring).
    """
    if text.isprintable():  # nothing to escape (the common case)
        return text
    return "".join(_control(ch) for ch in text)


def _blank(ch: str) -> str:
    if ch != " " and unicodedata.category(ch) in _BLANK:
        return f"⟨U+{ord(ch):04X}⟩"
    return ch


def shown(text: str) -> str:
    r"""A token (or a prompt, a label) as every view shows it; see the module docstring.

    Args:
        text: raw text, or the text form (:func:`visible`, :func:`token_strings`).

    Returns:
        E.g. ``"␣Paris"`` for ``" Paris"``, ``"␣"`` for ``" "``, ``"⟨U+00A0⟩"`` for a no-break
        space, ``"\\n\\n"`` for two newlines. The empty string stays empty (nothing to show).
    """
    body = text.strip(" ")
    lead = len(text) - len(text.lstrip(" "))
    trail = len(text) - lead - len(body)
    if not body.isprintable():  # isprintable: no control, format, separator (but " ") ...
        body = "".join(_blank(ch) for ch in visible(body))
    return SPACE * lead + body + SPACE * trail


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide (East Asian) characters 2, combining marks 0."""
    if text.isascii():
        return len(text)
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def bytes_text(data: bytes) -> str:
    """Decode ``data`` as UTF-8, each byte that is not part of a valid character as ``⟨E6⟩``."""
    text = data.decode("utf-8", errors="surrogateescape")
    if text.isascii() or not any(0xDC80 <= ord(ch) <= 0xDCFF for ch in text):
        return text
    return "".join(
        f"⟨{ord(ch) - 0xDC00:02X}⟩" if 0xDC80 <= ord(ch) <= 0xDCFF else ch for ch in text
    )


def token_strings(tokenizer: Any, ids: Sequence[int], *, readable: bool = True) -> list[str]:
    """The text of each token id on its own.

    Args:
        tokenizer: a ``transformers`` tokenizer, or None (ids are shown as ``⟨id⟩``).
        ids: token ids.
        readable: True: the text form (module docstring: control characters visible, a lone
            byte of a multi-byte character as ``⟨E6⟩``). False: the decoded text, raw
            (``"�"`` for a lone byte piece).

    Returns:
        One string per id, e.g. ``" Paris"`` for the byte-level BPE token ``ĠParis`` (views show
        it as ``␣Paris``, :func:`shown`).
    """
    ids = [int(i) for i in ids]
    if tokenizer is None:
        return [f"⟨{i}⟩" for i in ids]
    texts = piece_texts(tokenizer, ids)
    if not readable:
        return texts
    out = []
    for text, data in zip(texts, piece_bytes(tokenizer, ids, texts), strict=True):
        if data is not None:  # decoding lost bytes (``�``): show them
            text = bytes_text(data)
        out.append(visible(text))
    return out
