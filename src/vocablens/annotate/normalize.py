r"""Token normalization and token kinds, from the token's surface alone (no lexicon).

A projected vector's top tokens arrive as decoded strings (``" Paris"``), as raw tokenizer
pieces (``"ĠParis"``, ``"▁Paris"``, ``"##ing"``) or as the readable forms of
:func:`vocablens.tokens.visible` / :func:`vocablens.tokens.shown` (``"\\n"``, ``"⟨0x0A⟩"``,
``"␣Paris"``). :func:`normalize_token` strips the
markers and surrounding spaces, records whether the token starts a word, its case and its *kind*:

=============== ================================================================================
kind            meaning
=============== ================================================================================
``word``        Latin-script letters (inner ``'`` / ``-`` allowed) that start a word (a leading
                space or word-start marker)
``piece``       Latin-script letters with no word-start marker: a word piece (or a word at the
                start of a text)
``number``      digits, with optional sign, separators or an ordinal suffix (``1,000``, ``3rd``)
``punctuation`` only punctuation / ASCII symbol characters (``,``, ``."``, ``$``)
``symbol``      other symbols: emoji, arrows, math signs
``whitespace``  nothing but spaces, newlines, tabs
``code``        code or markup: ``</``, ``{``, ``=>``, ``::``, ``snake_case``, ``camelCase``, ``.get``
``script``      letters of a non-Latin script; :attr:`NormalToken.script` names it (``Cyrillic``)
``byte``        an undecodable byte (``�``, ``⟨E6⟩``, ``⟨0x..⟩``)
``special``     a special token (``<|endoftext|>``, ``<s>``, ``[CLS]``)
``other``       anything else (mixed letters and digits, ...)
=============== ================================================================================
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from vocablens.model.tokenizer import MARKER_TEXT
from vocablens.tokens import SPACE

KINDS = (
    "word",
    "piece",
    "number",
    "punctuation",
    "symbol",
    "whitespace",
    "code",
    "script",
    "byte",
    "special",
    "other",
)

_VISIBLE_WS = re.compile(r"\\[ntr]")
_BYTE = re.compile(r"⟨(0x)?[0-9A-Fa-f]{2}⟩|\ufffd|^<0x[0-9A-Fa-f]{2}>$")  # ⟨E6⟩: a lone byte
_SPECIAL = re.compile(r"^(<\|[^|]*\|>|<s>|</s>|<unk>|<pad>|<mask>|\[(CLS|SEP|PAD|UNK|MASK)\])$")
_NUMBER = re.compile(r"^[+-]?(\d+([.,_]\d+)*|\.\d+)(st|nd|rd|th|s|%)?$")
_WORD = re.compile(r"^[^\W\d_]+(['’-][^\W\d_]+)*$")
_CODE_PUNCT = re.compile(r"[{}]|</|/>|=>|->|::|==|!=|&&|\|\||\+\+|\(\)|\[\]|://|\$[({]|#!")
_IDENTIFIER = re.compile(
    r"^[._$]?[A-Za-z]+([_.][A-Za-z0-9]+)+$|^[a-z]+[A-Z][A-Za-z]*$|^[._][a-z_]+$|^_\w+$"
)
_CODE_IN_WORD = re.compile(r"[A-Za-z].*[<>=\\$#@|;{}\[\]]|[<>=\\$#@|;{}\[\]].*[A-Za-z]")


@dataclass(frozen=True)
class NormalToken:
    """A token string, normalized.

    Attributes:
        raw: the token as given.
        text: the token without markers and surrounding whitespace (``"Paris"``).
        lower: ``text`` lower-cased (the key for lexicon look-ups).
        word_start: the token starts a word (leading space or a word-start marker).
        kind: one of :data:`KINDS`.
        case: ``"lower"``, ``"title"``, ``"upper"``, ``"mixed"`` or ``"none"`` (no cased letters).
        script: the script of its letters (``"Latin"``, ``"Cyrillic"``, ``"CJK"``, ...) or ``""``.
    """

    raw: str
    text: str
    lower: str
    word_start: bool
    kind: str
    case: str
    script: str

    @property
    def is_alpha(self) -> bool:
        """Whether the token is a Latin-script word or word piece (a lexicon candidate)."""
        return self.kind in ("word", "piece")


def _script_of(ch: str) -> str:
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "Unknown"
    first = name.split()[0]
    if first in ("CJK", "HIRAGANA", "KATAKANA", "IDEOGRAPHIC"):
        return "CJK" if first in ("CJK", "IDEOGRAPHIC") else "Japanese kana"
    if first == "HANGUL":
        return "Korean Hangul"
    if first in ("FULLWIDTH", "HALFWIDTH"):
        return "CJK"
    return first.title()


def script_of(text: str) -> str:
    """The script of the first letter in ``text`` (``""`` when it has no letters)."""
    for ch in text:
        if ch.isalpha():
            return _script_of(ch)
    return ""


def _case(text: str) -> str:
    letters = [ch for ch in text if ch.isalpha() and ch.lower() != ch.upper()]
    if not letters:
        return "none"
    if all(ch.islower() for ch in letters):
        return "lower"
    if all(ch.isupper() for ch in letters):
        return "upper" if len(letters) > 1 else "title"
    if letters[0].isupper() and all(ch.islower() for ch in letters[1:]):
        return "title"
    return "mixed"


def _unmark(raw: str) -> tuple[str, bool]:
    """Replace tokenizer markers; return the text and whether it started a word."""
    text = raw
    piece_prefix = text.startswith("##")  # WordPiece continuation
    if piece_prefix:
        text = text[2:]
    if text and text[0] in MARKER_TEXT:
        text = "".join(MARKER_TEXT.get(ch, ch) for ch in text)
    if SPACE in text:  # vocablens' own display of a space (``"␣Paris"``)
        text = text.replace(SPACE, " ")
    text = _VISIBLE_WS.sub(lambda m: {"\\n": "\n", "\\t": "\t", "\\r": "\r"}[m.group()], text)
    word_start = (not piece_prefix) and text[:1].isspace()
    return text, word_start


def _punct_or_symbol(text: str) -> str | None:
    cats = [unicodedata.category(ch) for ch in text]
    if not all(c[0] in "PS" for c in cats):
        return None
    if any(c == "So" for c in cats) and not all(ch.isascii() for ch in text):
        return "symbol"
    if any(c == "Sm" for c in cats) and not all(ch.isascii() for ch in text):
        return "symbol"
    return "punctuation"


@lru_cache(maxsize=1 << 17)
def normalize_token(raw: str) -> NormalToken:
    """Normalize one token string (cached per string).

    Args:
        raw: a decoded token (``" Paris"``), a raw piece (``"ĠParis"``) or a readable form.

    Returns:
        The :class:`NormalToken`.
    """
    text, word_start = _unmark(str(raw))
    stripped = text.strip()
    lower = stripped.lower()
    case = _case(stripped)
    script = script_of(stripped)
    kind = _kind(text, stripped, word_start, script)
    return NormalToken(raw, stripped, lower, word_start, kind, case, script)


def _kind(text: str, stripped: str, word_start: bool, script: str) -> str:
    if _BYTE.search(text):
        return "byte"
    if not stripped:
        return "whitespace"
    if _SPECIAL.match(stripped):
        return "special"
    if _NUMBER.match(stripped):
        return "number"
    if _IDENTIFIER.match(stripped) or _CODE_IN_WORD.search(stripped):
        return "code"
    if _WORD.match(stripped):
        if script not in ("Latin", ""):
            return "script"
        return "word" if word_start else "piece"
    if script and script != "Latin" and all(ch.isalpha() or ch.isspace() for ch in stripped):
        return "script"
    if _CODE_PUNCT.search(stripped):
        return "code"
    ps = _punct_or_symbol(stripped.replace(" ", ""))
    if ps is not None:
        return ps
    if script and script not in ("Latin",):
        return "script"
    return "other"
