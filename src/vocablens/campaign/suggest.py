"""WordNet suggestions as a person types a concept: lemma names by prefix (nltk's reader)."""

from __future__ import annotations

import bisect
import contextlib
import threading
from functools import lru_cache

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _lemmas() -> tuple[str, ...]:
    """Every WordNet lemma name, spaces for underscores, lower-cased, sorted (loaded once)."""
    from vocablens.annotate.wordnet import open_wordnet

    with _LOCK:
        reader = open_wordnet()
        return tuple(sorted({name.replace("_", " ").lower() for name in reader.all_lemma_names()}))


def suggestions(prefix: str, n: int = 9) -> list[str]:
    """Up to ``n`` WordNet lemma names that start with ``prefix`` (case-insensitive).

    Returns an empty list when WordNet is not installed (suggestions are a help, not a need).
    """
    from vocablens.annotate.wordnet import WordNetNotFoundError

    prefix = " ".join(prefix.lower().split())
    if not prefix:
        return []
    try:
        lemmas = _lemmas()
    except WordNetNotFoundError:
        return []
    start = bisect.bisect_left(lemmas, prefix)
    out = []
    for name in lemmas[start : start + n]:
        if not name.startswith(prefix):
            break
        out.append(name)
    return out


def warm_up() -> None:
    """Open WordNet now (a server does it at start, so the first keystroke is not slow)."""
    from vocablens.annotate.wordnet import WordNetNotFoundError

    with contextlib.suppress(WordNetNotFoundError):
        _lemmas()
