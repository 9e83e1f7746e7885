"""Offline WordNet 3.0 through nltk's maintained reader, with per-word caches.

Where the database comes from (first hit wins):

1. ``$VOCABLENS_WORDNET``: a WordNet 3.0 ``dict`` directory;
2. an nltk-installed corpus (``nltk.data.find("corpora/wordnet")``, never downloaded);
3. Debian's ``wordnet-base`` package: ``/usr/share/wordnet`` (``scripts/install-system-deps.sh``).

Debian's package lacks two files nltk's ``WordNetCorpusReader`` expects; :class:`_Reader` fills
them in without copying the database:

* ``lexnames`` (lexicographer file numbers -> names such as ``noun.time``): a fixed WordNet 3.0
  table (``man 5 lexnames``; the WordNet C library compiles it in too), served from memory when
  the directory has no such file;
* ``index.sense``: nltk reads it only to map *another* WordNet version onto the loaded one
  (``map_wn``); for WordNet 3.0 itself that map is the identity, so it is skipped.

nltk (3.9+) only opens files under its data path, so the chosen directory is appended to
``nltk.data.path`` when WordNet is first opened (never at import).
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from vocablens.errors import VocabLensError

DEBIAN_DIR = Path("/usr/share/wordnet")

#: WordNet 3.0's lexicographer files (supersenses), in file-number order (``man 5 lexnames``).
_LEXNAMES_TEXT = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute "
    "noun.body noun.cognition noun.communication noun.event noun.feeling noun.food noun.group "
    "noun.location noun.motive noun.object noun.person noun.phenomenon noun.plant "
    "noun.possession noun.process noun.quantity noun.relation noun.shape noun.state "
    "noun.substance noun.time verb.body verb.change verb.cognition verb.communication "
    "verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion "
    "verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
)
LEXNAMES = tuple(_LEXNAMES_TEXT.split())
_LEXNAMES_FILE = "".join(
    f"{i:02d}\t{name}\t{ {'noun': 1, 'verb': 2, 'adj': 3, 'adv': 4}[name.split('.')[0]] }\n"
    for i, name in enumerate(LEXNAMES)
)


class WordNetNotFoundError(VocabLensError):
    """No WordNet 3.0 database could be found on this machine."""


def _reader_class() -> type:
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _Reader(WordNetCorpusReader):
        """nltk's reader, tolerant of Debian's layout (no ``lexnames``, no ``index.sense``)."""

        def open(self, file: str) -> Any:
            try:
                return super().open(file)
            except OSError:
                if file == "lexnames":  # Debian's wordnet-base does not ship it
                    return io.StringIO(_LEXNAMES_FILE)
                raise

        def map_wn(self, version: str = "wordnet") -> Any:
            if self.get_version() == "3.0":
                return None  # the loaded database *is* WordNet 3.0: identity map
            return super().map_wn(version)

    return _Reader


def find_wordnet_dir() -> Path | str:
    """The WordNet directory to use (see the module docstring for the search order).

    Raises:
        WordNetNotFoundError: none was found.
    """
    env = os.environ.get("VOCABLENS_WORDNET")
    if env:
        if not (Path(env) / "data.noun").is_file():
            raise WordNetNotFoundError(f"VOCABLENS_WORDNET={env} has no WordNet data.noun file")
        return Path(env)
    try:
        import nltk.data

        return nltk.data.find("corpora/wordnet")
    except LookupError:
        pass
    if (DEBIAN_DIR / "data.noun").is_file():
        return DEBIAN_DIR
    raise WordNetNotFoundError(
        "WordNet database not found: install Debian's wordnet-base "
        "(bash scripts/install-system-deps.sh) or set VOCABLENS_WORDNET to a WordNet 3.0 directory"
    )


_LOCK = threading.Lock()

# WordNet's morphological detachment rules (as in ``morphy``), per part of speech.
_DETACH = {
    "n": (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
          ("men", "man"), ("ies", "y")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"),
          ("ing", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
}  # fmt: skip


@lru_cache(maxsize=4)
def open_wordnet(path: str | None = None) -> Any:
    """Open (once per path) nltk's ``WordNetCorpusReader`` on the local database.

    Args:
        path: a WordNet directory; None searches (see :func:`find_wordnet_dir`).

    Returns:
        The reader (``synsets``, ``morphy``, ``synset`` ... as in ``nltk.corpus.wordnet``).
    """
    import nltk.data

    root = find_wordnet_dir() if path is None else Path(path)
    with _LOCK:
        if isinstance(root, Path):
            resolved = str(root.resolve())
            if resolved not in map(str, nltk.data.path):
                nltk.data.path.append(resolved)  # nltk refuses paths outside its data path
            root = resolved
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "multilingual functions are not available"
            try:
                return _reader_class()(root, None)
            except (OSError, ValueError, PermissionError) as exc:
                raise WordNetNotFoundError(f"cannot read WordNet at {root}: {exc}") from exc


@dataclass(frozen=True)
class SynsetInfo:
    """What the labeller needs to know about one synset (cached).

    Attributes:
        name: the synset name (``"day_of_the_week.n.01"``).
        label: a readable name, its first lemma with spaces (``"day of the week"``).
        lexname: its supersense (``"noun.time"``).
        depth: its depth below the root of its hierarchy (``min_depth``).
        pos: ``"n"``, ``"v"``, ``"a"``, ``"s"`` or ``"r"``.
    """

    name: str
    label: str
    lexname: str
    depth: int
    pos: str


@dataclass(frozen=True)
class WordSenses:
    """The WordNet view of one lower-cased word (cached per word).

    Attributes:
        word: the word looked up.
        synsets: the senses used (nouns first, then verbs; at most the configured number).
        ancestors: names of the senses and all their (instance) hypernyms.
        sense_weights: per ancestor, ``1 / (1 + r)`` for the best-ranked sense ``r`` (0-based,
            counted per part of speech) that reaches it: frequent senses weigh more.
        lexnames: supersenses of all its senses (adjectives and adverbs included).
        bases: base forms other than the word itself, per part of speech, from WordNet's
            irregular forms and its suffix rules (``{"v": ("go",)}`` for ``"went"``,
            ``{"n": ("hour",)}`` for ``"hours"`` although ``hours`` is a lemma too).
    """

    word: str
    synsets: tuple[str, ...]
    ancestors: frozenset[str]
    sense_weights: dict[str, float]
    lexnames: frozenset[str]
    bases: dict[str, tuple[str, ...]]

    @property
    def known(self) -> bool:
        """Whether WordNet knows the word at all."""
        return bool(self.lexnames)


class Lexicon:
    """Cached WordNet look-ups for token labelling.

    Args:
        max_noun_senses: noun senses of a word considered (most frequent first).
        max_verb_senses: verb senses considered.
        path: a WordNet directory (None: search, see :func:`find_wordnet_dir`).
    """

    def __init__(self, max_noun_senses: int = 6, max_verb_senses: int = 3, path: str | None = None):
        self.max_noun_senses = max_noun_senses
        self.max_verb_senses = max_verb_senses
        self.path = path
        self._wn: Any = None
        self._exceptions: dict[str, dict[str, str]] | None = None
        self._sense_counts: dict[str, int] | None = None
        self._up_cache: dict[str, frozenset[str]] = {}
        self._depth_cache: dict[str, int] = {}
        self.senses = lru_cache(maxsize=1 << 17)(self._senses)
        self._synsets_cached = lru_cache(maxsize=1 << 18)(self._synsets)
        self.synset_info = lru_cache(maxsize=1 << 17)(self._synset_info)
        self.hypernyms = lru_cache(maxsize=1 << 16)(self._hypernyms)
        self.count = lru_cache(maxsize=1 << 16)(self.count)  # type: ignore[method-assign]

    @property
    def wn(self) -> Any:
        """The nltk reader (opened on first use)."""
        if self._wn is None:
            self._wn = open_wordnet(self.path)
        return self._wn

    def _synsets(self, word: str, pos: str | None) -> tuple[Any, ...]:
        return tuple(self.wn.synsets(word, pos))

    def synsets(self, word: str, pos: str | None = None) -> tuple[Any, ...]:
        """``wn.synsets(word, pos)``, cached (nltk re-parses the data lines on every call)."""
        return self._synsets_cached(word, pos)

    def exceptions(self, pos: str) -> dict[str, str]:
        """WordNet's irregular forms for ``pos`` (``"n"``, ``"v"``, ``"a"``): form -> base."""
        if self._exceptions is None:
            table: dict[str, dict[str, str]] = {}
            for p, name in (("n", "noun"), ("v", "verb"), ("a", "adj")):
                entries: dict[str, str] = {}
                with self.wn.open(f"{name}.exc") as fp:
                    for line in fp:
                        parts = line.split()
                        if len(parts) >= 2:
                            entries[parts[0]] = parts[1]
                table[p] = entries
            self._exceptions = table
        return self._exceptions[pos]

    def sense_counts(self) -> dict[str, int]:
        """Tagged-corpus frequency per sense key (WordNet's ``cntlist.rev``; read once).

        nltk's ``Lemma.count()`` binary-searches the file on disk for every call (~0.6 ms).
        """
        if self._sense_counts is None:
            counts: dict[str, int] = {}
            try:
                with self.wn.open("cntlist.rev") as fp:
                    for line in fp:
                        parts = line.split()
                        if len(parts) >= 3:
                            counts[parts[0]] = int(parts[-1])
            except (OSError, ValueError):
                pass  # without frequencies every count is 0
            self._sense_counts = counts
        return self._sense_counts

    def count(self, word: str, pos: str | None = None) -> int:
        """Tagged-corpus frequency of ``word`` as a lemma (WordNet's ``cntlist``), in ``pos``."""
        counts = self.sense_counts()
        return sum(
            counts.get(lemma.key(), 0)
            for s in self.synsets(word, pos)
            for lemma in s.lemmas()
            if lemma.name().lower() == word
        )

    def is_lemma(self, word: str, pos: str) -> bool:
        """Whether ``word`` is itself a WordNet lemma of part of speech ``pos``."""
        return any(
            lemma.name().lower() == word for s in self.synsets(word, pos) for lemma in s.lemmas()
        )

    def base_forms(self, word: str, pos: str) -> tuple[str, ...]:
        """Lemmas of part of speech ``pos`` that ``word`` inflects, other than ``word`` itself.

        Uses WordNet's irregular forms (``went`` -> ``go``) and its detachment rules, plus
        consonant doubling (``stopped`` -> ``stop``); unlike ``morphy`` it does not stop at
        ``word`` when ``word`` is a lemma too (``hours``, ``papers``).
        """
        out: list[str] = []
        exc = self.exceptions(pos).get(word) if pos in ("n", "v", "a") else None
        if exc is not None and exc != word:
            out.append(exc)
        for suffix, ending in _DETACH.get(pos, ()):
            if not word.endswith(suffix) or len(word) <= len(suffix) + 1:
                continue
            stem = word[: -len(suffix)]
            candidates = [stem + ending]
            if not ending and len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
                candidates.append(stem[:-1])  # stopped -> stop, bigger -> big
            for base in candidates:
                if base != word and base not in out and self.is_lemma(base, pos):
                    out.append(base)
        return tuple(out)

    def _up(self, synset: Any) -> frozenset[str]:
        """Names of ``synset`` and all its (instance) hypernyms, memoized per synset."""
        name = synset.name()
        hit = self._up_cache.get(name)
        if hit is None:
            parents = synset.hypernyms() + synset.instance_hypernyms()
            hit = frozenset((name,)).union(*(self._up(h) for h in parents))
            self._up_cache[name] = hit
            depths = [self._depth_cache[p.name()] for p in parents]
            self._depth_cache[name] = 1 + min(depths) if depths else 0
        return hit

    def up(self, synset: Any) -> frozenset[str]:
        """Names of an nltk synset and all its (instance) hypernyms (memoized)."""
        return self._up(synset)

    def depth(self, name: str) -> int:
        """``min_depth`` of a synset (as nltk computes it), memoized with its hypernyms."""
        depth = self._depth_cache.get(name)
        if depth is None:
            self._up(self.wn.synset(name))
            depth = self._depth_cache[name]
        return depth

    def _hypernyms(self, name: str) -> frozenset[str]:
        return self._up(self.wn.synset(name)) - {name}

    def _synset_info(self, name: str) -> SynsetInfo:
        s = self.wn.synset(name)
        return SynsetInfo(
            name=name,
            label=s.lemma_names()[0].replace("_", " "),
            lexname=s.lexname(),
            depth=self.depth(name),
            pos=s.pos(),
        )

    def _senses(self, word: str) -> WordSenses:
        if not word or not word.replace("-", "").replace("'", "").isalpha():
            return WordSenses(word, (), frozenset(), {}, frozenset(), {})
        all_synsets = self.synsets(word)
        nouns = [s for s in all_synsets if s.pos() == "n"][: self.max_noun_senses]
        verbs = [s for s in all_synsets if s.pos() == "v"][: self.max_verb_senses]
        used = nouns + verbs
        weights: dict[str, float] = {}
        for group in (nouns, verbs):
            for rank, s in enumerate(group):
                w = 1.0 / (1 + rank)
                for h in self._up(s):
                    if weights.get(h, 0.0) < w:
                        weights[h] = w
        forms = {pos: self.base_forms(word, pos) for pos in ("n", "v", "a")}
        return WordSenses(
            word=word,
            synsets=tuple(s.name() for s in used),
            ancestors=frozenset(weights),
            sense_weights=weights,
            lexnames=frozenset(s.lexname() for s in all_synsets),
            bases={pos: b for pos, b in forms.items() if b},
        )
