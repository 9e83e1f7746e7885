"""ConceptLabeler: the meaning and the form of a list of top tokens, each with its coverage.

How a list is read (:meth:`ConceptLabeler.label`):

1. **Tokens** are analysed (:mod:`~vocablens.annotate.analysis`): word or piece (against the
   lexicon of :mod:`~vocablens.annotate.words`), number, variant key, WordNet support, form.
2. **Variants merge**: tokens with the same key (``␣Review``, ``review``, ``␣reviewing``) are one
   *group*, weighing as its best-ranked member. A token at rank ``r`` weighs
   ``1 / (1 + r / rank_scale)``, so a clear top-10 is not swamped by 20 tokens of tail. The
   **coverage** of a concept is the weight of the groups it explains over the weight of all
   groups (noise included).
3. **Meaning** (the semantic label): every synset the groups' senses reach is a candidate, and so
   is "number" (digits, number words, ordinals), and so is "personal names"
   (:mod:`~vocablens.annotate.names`). The part of speech follows the list: when most
   of its words are mostly used as nouns (by WordNet's tagged counts), nouns' noun senses are
   used, else their verb senses. A candidate scores ``coverage * IC ** specificity_power`` with
   ``IC`` its intrinsic information content (:mod:`~vocablens.annotate.ic`); synsets with
   ``IC < min_ic`` or in :data:`GENERAL_SYNSETS` are never candidates, and a candidate must
   explain at least two groups. Candidates also come from adjective clusters and their attribute
   nouns, derivations across nouns and verbs, and a few supersenses (``feelings``, ``body``), see
   :mod:`~vocablens.annotate.analysis`. The best candidate is the label; it is **confident** when it
   covers ``min_coverage`` and explains ``min_words`` groups. When neither one candidate nor a
   pair (step 4) is confident, a **head word** may be: a word of the list with at least
   ``min_head_variants`` variants, together with the words WordNet relates to it directly
   (synonyms, similar adjectives, derivations, hypernyms, the words of its definitions: "old"
   with ``elderly``, ``aged``, ``years``), explaining ``head_tokens`` tokens and covering
   ``min_coverage`` (:mod:`~vocablens.annotate.relations`), whose related words are on average
   within ``head_similarity`` word-vector cosine of it (WordNet relates ``order`` to ``class``
   and ``rate``, which a reader does not read as one concept). Otherwise the list has no concept,
   the honest answer for most early-layer vectors, unless a **theme** is: words of the list
   that word vectors put close together, WordNet or not (``buyer``, ``sellers``, ``auction``:
   "buyer, seller"; :mod:`~vocablens.annotate.themes`), or two themes apart, each as strong as
   a second theme, that together cover ``two_theme_coverage``. On the **raw list** (``label(raw=)``, or
   ``tokens`` themselves under ``readout="raw"``) ``min_python_names`` Python names
   (:mod:`~vocablens.annotate.python_names`: ``␣hashlib``, ``setattr``) make "programming code":
   the concept of a list without one (no synset, class, family, head word or theme), else a
   second meaning beside it (ahead of a second theme); ``min_python_group_names`` of them make
   only a second meaning, where no second theme is one.
4. **Polysemantic**: the groups the label explains are set aside and the best candidate of the
   rest is found the same way. The vector is polysemantic when both reach ``group_coverage`` and
   ``min_words``, and they are unrelated: no synset above both has ``IC >= related_ic``, a word
   family is not under the other's synset, two word families are not directly related
   (``race``, ``racial``), and they are not two closed classes (a closed class or numbers must
   reach ``closed_pair_coverage`` to be a group; a closed class or meaning class beside one
   word's variants is a phrase). A second theme apart from the concept's words also makes a
   polysemantic list. When no single candidate is confident, two such groups that
   together reach ``pair_coverage`` make a confident, polysemantic label. Only meanings split a
   vector, never forms.
5. **Form** (the form description, its own field): the form class (plural nouns, past-tense
   verbs, capitalized words, word starts, word pieces, code, a script, digits ...) that stands
   out most against a random list of the same readout
   (:data:`~vocablens.annotate.forms.FORM_BASE`): among the classes whose rank-weighted
   share reaches ``form_coverage`` and ``form_lift`` times its base share, the one with the
   largest ``share * log(share / base)``, read on ``tokens`` and on the raw list when given
   (``form_readout`` says which). Form never replaces meaning: the headline ``label`` is the
   semantic label when it is confident, else the form description (``kind="form"``), else the
   best unconfident semantic candidate or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from vocablens.annotate.analysis import (
    SUPERSENSE,
    TokenAnalysis,
    analyse_token,
)
from vocablens.annotate.candidates import candidates
from vocablens.annotate.concepts import (
    find_pair,
    head_candidate,
    python_candidate,
    related,
    strong,
    with_code,
)
from vocablens.annotate.forms import FORM_BASE, standout_form
from vocablens.annotate.groups import families, list_pos
from vocablens.annotate.ic import information_content
from vocablens.annotate.label_types import (
    CLOSED,
    CODE,
    LEXICAL,
    MEANING,
    NAMES,
    NO_LABEL,
    NUMBER,
    Label,
)
from vocablens.annotate.relations import Relations
from vocablens.annotate.result import FORM, NO_LABEL_KIND, SEMANTIC
from vocablens.annotate.themes import is_theme_word, theme_candidate, theme_pair, two_themes
from vocablens.annotate.word_vectors import WordVectors, model_dir
from vocablens.annotate.wordnet import Lexicon

#: The specificity of a meaning class: above the closed classes it refines.
MEANING_IC = 0.8
#: The specificity of the pseudo-synsets (about WordNet's ``number.n.02``).
NUMBER_IC = 0.55
#: The specificity of an adjective cluster (WordNet has no adjective hierarchy to count).
ADJECTIVE_IC = 0.55
#: The specificity of a supersense (``noun.feeling``): below any synset specific enough.
SUPERSENSE_IC = 0.3


class ConceptLabeler:
    """Labels lists of top tokens with a meaning (WordNet or number) and a form.

    Args:
        min_coverage: coverage a semantic label needs to be confident.
        min_words: variant groups a semantic label must explain to be confident (and a
            polysemantic group to count).
        group_coverage: coverage each of two groups needs for a polysemantic list.
        min_ic: candidates with a lower information content are never labels.
        related_ic: two groups whose common ancestor is at least this specific are one concept.
        specificity_power: exponent of the IC in the score (0: coverage only).
        rank_scale: ``s`` of the rank weight ``1 / (1 + r / s)``.
        form_coverage: share a form class needs to be the form description.
        form_lift: how many times its base share (``form_base``) a form class needs.
        form_base: readout -> form class -> its share in a random list (None:
            :data:`~vocablens.annotate.forms.FORM_BASE`, measured on SmolLM2).
        min_family: tokens a word family (variants of one word) needs to be a concept.
        min_tokens: a concept of only two words (variant groups) is strong when it explains
            at least this many tokens (None: never).
        pair_coverage: when no single concept reaches ``min_coverage``, two unrelated groups
            that each reach ``group_coverage`` and together this coverage make a confident,
            polysemantic label (None: never).
        supersense_ic: the specificity of a supersense candidate (``feelings`` from WordNet's
            ``noun.feeling``); a high value lets coarse topics beat specific synsets.
        closed_pair_coverage: coverage a closed-class or number group needs to be one of a
            polysemantic list's two groups (None: ``group_coverage`` as for any group).
        head_tokens: when no synset, number or word family is a concept, a head word and the
            words directly related to it (:mod:`~vocablens.annotate.relations`) that explain at
            least this many tokens and cover ``min_coverage`` are one (None: never).
        min_head_variants: tokens (variants) the head word itself needs in the list.
        head_similarity: mean word-vector cosine of a head word's related words to it
            (:mod:`~vocablens.annotate.word_vectors`; None: WordNet's links alone).
        min_python_names: Python names (:mod:`~vocablens.annotate.python_names`) the raw list
            (``label(raw=)``) needs for "programming code" (None: never).
        min_python_group_names: Python names enough for "programming code" as a polysemantic
            list's second meaning, beside another concept and no second theme (None:
            ``min_python_names``).
        theme_similarity: word-vector cosine of a theme's words to its centre, when nothing
            else is a concept (:mod:`~vocablens.annotate.themes`; None: no themes at all).
        theme_coverage: coverage a theme of three or more words needs.
        theme_pair_similarity: cosine of a theme of two words (None: no two-word themes).
        theme_pair_coverage: coverage a theme of two words needs.
        theme_group_similarity: cosine of a second theme beside the concept, which makes the
            list polysemantic (None: never).
        theme_group_coverage: coverage a second theme needs.
        theme_apart: the mean cosine between a concept's words and a second theme's must stay
            below this (and no cosine between them reach ``theme_pair_similarity``).
        two_theme_coverage: when nothing else is a concept, two themes apart that each have a
            second theme's strength and together this coverage make a confident, polysemantic
            label (None: never).
        wordnet_path: a WordNet directory (None: search; see :mod:`~vocablens.annotate.wordnet`).

    Attributes:
        lexicon_: the cached WordNet look-ups (after :meth:`fit`).
        relations_: the cached near words of head-word candidates (after :meth:`fit`).
        word_vectors_: the cached word vectors of theme candidates (after :meth:`fit`).
        n_vocabulary_: how many vocabulary tokens were pre-analysed by :meth:`fit`.
    """

    def __init__(
        self,
        min_coverage: float = 0.15,
        min_words: int = 3,
        group_coverage: float = 0.1,
        min_ic: float = 0.2,
        related_ic: float = 0.35,
        specificity_power: float = 1.0,
        rank_scale: float = 10.0,
        form_coverage: float = 0.15,
        form_lift: float = 1.5,
        form_base: dict[str, dict[str, float]] | None = None,
        min_family: int = 4,
        min_tokens: int | None = None,
        pair_coverage: float | None = 0.2,
        supersense_ic: float = SUPERSENSE_IC,
        closed_pair_coverage: float | None = 0.15,
        head_tokens: int | None = 5,
        min_head_variants: int = 2,
        min_python_names: int | None = 4,
        min_python_group_names: int | None = 3,
        theme_similarity: float | None = 0.55,
        theme_coverage: float = 0.13,
        theme_pair_similarity: float | None = 0.7,
        theme_pair_coverage: float | None = 0.12,
        theme_group_similarity: float | None = 0.45,
        theme_group_coverage: float = 0.1,
        theme_apart: float = 0.45,
        wordnet_path: str | None = None,
        two_theme_coverage: float | None = 0.26,
        head_similarity: float | None = 0.45,
    ):
        self.min_coverage = min_coverage
        self.min_words = min_words
        self.group_coverage = group_coverage
        self.min_ic = min_ic
        self.related_ic = related_ic
        self.specificity_power = specificity_power
        self.rank_scale = rank_scale
        self.form_coverage = form_coverage
        self.form_lift = form_lift
        self.form_base = form_base
        self.min_family = min_family
        self.min_tokens = min_tokens
        self.pair_coverage = pair_coverage
        self.supersense_ic = supersense_ic
        self.closed_pair_coverage = closed_pair_coverage
        self.head_tokens = head_tokens
        self.min_head_variants = min_head_variants
        self.min_python_names = min_python_names
        self.min_python_group_names = min_python_group_names
        self.theme_similarity = theme_similarity
        self.theme_coverage = theme_coverage
        self.theme_pair_similarity = theme_pair_similarity
        self.theme_pair_coverage = theme_pair_coverage
        self.theme_group_similarity = theme_group_similarity
        self.theme_group_coverage = theme_group_coverage
        self.theme_apart = theme_apart
        self.wordnet_path = wordnet_path
        self.two_theme_coverage = two_theme_coverage
        self.head_similarity = head_similarity

    # ----- fitting ---------------------------------------------------------------------------
    def fit(self, vocabulary: Iterable[str] | None = None, y: object = None) -> ConceptLabeler:
        """Open WordNet, read its information content, optionally pre-analyse a vocabulary.

        Args:
            vocabulary: token strings to warm the caches with (e.g. every decoded token).
            y: ignored (scikit-learn signature).

        Returns:
            self.
        """
        self.lexicon_ = Lexicon(path=self.wordnet_path)
        wn = self.lexicon_.wn
        self._ic_by_offset = {pos: information_content(wn, pos) for pos in ("n", "v")}
        self.relations_ = Relations(self.lexicon_)
        if self.theme_similarity is not None or self.head_similarity is not None:
            model_dir()  # the package that carries the word vectors: a typed error if absent
        self.word_vectors_ = WordVectors()
        self._analysis_cache: dict[str, TokenAnalysis] = {}
        self._ic_cache: dict[str, float] = {}
        n = 0
        for token in vocabulary or ():
            self.analyse(token)
            n += 1
        self.n_vocabulary_ = n
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "lexicon_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("ConceptLabeler is not fitted yet: call fit() first")

    def analyse(self, token: str) -> TokenAnalysis:
        """The :class:`~vocablens.annotate.analysis.TokenAnalysis` of a token (cached)."""
        hit = self._analysis_cache.get(token)
        if hit is None:
            self._check_fitted()
            hit = analyse_token(token, self.lexicon_)
            self._analysis_cache[token] = hit
        return hit

    def ic(self, synset: str) -> float:
        """Intrinsic information content of a synset (0 = root, 1 = leaf; "number": fixed)."""
        hit = self._ic_cache.get(synset)
        if hit is None:
            if synset.startswith(MEANING):
                hit = MEANING_IC
            elif synset in (NUMBER, CODE, NAMES) or synset.startswith((CLOSED, LEXICAL)):
                hit = NUMBER_IC
            elif synset.startswith(SUPERSENSE):
                hit = self.supersense_ic
            else:
                s = self.lexicon_.wn.synset(synset)
                by_offset = self._ic_by_offset.get(s.pos())
                hit = ADJECTIVE_IC if by_offset is None else by_offset.get(s.offset(), 1.0)
                if s.pos() == "n" and s.attributes():
                    hit = min(hit, ADJECTIVE_IC)  # an attribute noun (size): as its clusters
            self._ic_cache[synset] = hit
        return hit

    def prepare(self, tokens: Iterable[str]) -> int:
        """Embed the theme words of many tokens at once (faster than list by list).

        Args:
            tokens: token strings (e.g. every token of the lists about to be labelled).

        Returns:
            How many distinct words are embedded now.
        """
        self._check_fitted()
        if self.theme_similarity is not None:
            analyses = (self.analyse(t) for t in set(tokens))
            self.word_vectors_.warm(a.key for a in analyses if is_theme_word(a))
        return self.word_vectors_.n_embedded

    # ----- labelling -------------------------------------------------------------------------
    def rank_weights(self, n: int) -> list[float]:
        """The weight ``1 / (1 + r / rank_scale)`` of each rank ``r < n``."""
        return [1.0 / (1.0 + r / self.rank_scale) for r in range(n)]

    def label(
        self, tokens: Sequence[str], *, raw: Sequence[str] | None = None,
        readout: str = "cosine",
    ) -> Label:  # fmt: skip
        """Label one list of top tokens (see the module docstring for the rule).

        Args:
            tokens: token strings, best first (``[" Monday", " Tuesday", ...]``).
            readout: the readout ``tokens`` come from (``"cosine"``, ``"raw"``, ``"csls"``):
                it picks the base shares of the form lift.
            raw: the same vector's top tokens under the raw readout, when ``tokens`` are of
                another one: the form may be read there (``form_readout="raw"``), and its
                Python names make "programming code"; every other meaning is read on
                ``tokens``.

        Returns:
            A :class:`Label` (``kind="none"`` when nothing fits).
        """
        self._check_fitted()
        tokens = [str(t) for t in tokens]
        if not tokens:
            return NO_LABEL
        analyses = [self.analyse(t) for t in tokens]
        weights = self.rank_weights(len(tokens))
        lists = [(readout, analyses, weights)]
        code = python_candidate(self, tokens, analyses, weights) if readout == "raw" else None
        if raw is not None and readout != "raw" and len(raw):
            raw = [str(t) for t in raw]
            raw_weights = self.rank_weights(len(raw))
            raw_analyses = [self.analyse(t) for t in raw]
            lists.append(("raw", raw_analyses, raw_weights))
            code = python_candidate(self, raw, raw_analyses, raw_weights)
        groups = families(analyses, weights)
        total = sum(weights)
        pos = list_pos(groups)
        ranked = candidates(self, groups, analyses, weights, pos, total, tokens)
        first = next((c for c in ranked if strong(self, c, self.min_coverage)), None)
        pair = find_pair(self, ranked, first, analyses, groups, total, tokens)
        if first is None and pair is not None and self.pair_coverage is not None:
            if pair[0].coverage + pair[1].coverage >= self.pair_coverage:
                first = pair[0]  # two groups, each a concept on its own: a polysemantic list
            else:
                pair = None
        if first is None:  # a word and its directly related words; one concept, never a pair
            first, pair = head_candidate(self, groups, total, tokens, self.min_coverage), None
        if first is None:  # words close in the word vectors, WordNet or not
            first = theme_candidate(self, groups, total, tokens)
        names = code is not None and code.n_words >= (self.min_python_names or 0)
        if first is None and not names:  # two themes apart, each too small alone
            pair = two_themes(self, groups, total, tokens)
            first = pair[0] if pair is not None else None
        if names:  # enough Python names for a concept: before a second theme
            first, pair = with_code(self, first, pair, code)
        if first is not None and pair is None:
            pair = theme_pair(self, first, groups, total, tokens)
        if not names:  # fewer: a second meaning where the list has no other
            first, pair = with_code(self, first, pair, code)
        base = self.form_base if self.form_base is not None else FORM_BASE
        form, form_cov, form_readout = standout_form(lists, base, self.form_coverage,
                                                     self.form_lift)  # fmt: skip
        poly = first is not None and pair is not None
        second = pair[1] if pair is not None else None
        if first is not None:
            found = (first.concept, second.concept) if poly and second else (first.concept,)
            top = first.concept
            return Label(top.label, SEMANTIC, top.supersense, top.synset, top.coverage,
                         top.explained, top.score, True, len(tokens), form, form_cov,
                         found, poly, form_readout)  # fmt: skip
        if form:
            return Label(form, FORM, None, None, form_cov, (), 0.0, True, len(tokens), form,
                         form_cov, (), False, form_readout)  # fmt: skip
        if ranked:
            top = ranked[0].concept
            return Label(top.label, SEMANTIC, top.supersense, top.synset, top.coverage,
                         top.explained, top.score, False, len(tokens), form, form_cov,
                         (), False, form_readout)  # fmt: skip
        return Label("", NO_LABEL_KIND, None, None, 0.0, (), 0.0, False, len(tokens), form,
                     form_cov, (), False, form_readout)  # fmt: skip

    def related(self, a: str, b: str) -> bool:
        """Whether two candidates are one concept (:func:`~vocablens.annotate.concepts.related`)."""
        return related(self, a, b)

    def transform(self, token_lists: Iterable[Sequence[str]]) -> pd.DataFrame:
        """Label many token lists.

        Args:
            token_lists: one list of top tokens per vector.

        Returns:
            One row per list with the columns of :meth:`Label.as_dict`.
        """
        rows = [self.label(tokens).as_dict() for tokens in token_lists]
        return pd.DataFrame(rows, columns=list(NO_LABEL.as_dict()))

    def fit_transform(self, token_lists: Iterable[Sequence[str]], y: object = None) -> pd.DataFrame:
        """``fit()`` then :meth:`transform` (the vocabulary is not pre-analysed)."""
        return self.fit().transform(token_lists)
