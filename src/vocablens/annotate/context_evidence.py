"""Where a value vector's neuron fires, as evidence for its label (contexts meet labels).

A corpus run (``vocablens activations``, :func:`~vocablens.activations.files.read_activations`)
records each FFN neuron's top-activating contexts per sign; the annotator labels the neuron's
value vector from its top tokens. :func:`context_evidence` puts the two side by side, per
``values`` row of an annotation (layer, expert, index, sign):

* ``context_agreement``: the share of the neuron's top contexts whose *next* token (the token
  that actually follows the trigger) is among the value vector's top-``k`` tokens on the read
  readout (Geva et al. 2020; :func:`vocablens.activations.agreement.context_hits`). Contexts at a
  document's end (no next token) are left out; null when none is left.
* ``context_label``, ``context_label_kind``, ``context_coverage``, ``context_confident``: the same
  :class:`~vocablens.annotate.labeler.ConceptLabeler` applied to the context tokens, best
  activation first: the trigger tokens (the tokens at which the neuron fires, ``tokens=
  "trigger"``, the default) or the next tokens (``tokens="next"``). So "where it fires" reads in
  the vocabulary of "what it promotes".
* ``context_support_share``: the share of the contexts whose token (the same ``tokens``) falls in
  the token-list label's terms: for a WordNet synset its lemma closure (the lemmas of the synset
  and all its hyponyms, :func:`vocablens.annotate.concept_search.expand_concept`); for every
  other label (numbers, closed classes, code, word families, form labels) the words of the
  tokens the label explains (and, for numbers, digits). A token matches after lower-casing and
  dropping a leading space and edge punctuation, or through its WordNet base form.
* ``context_support``: ``context_support_share >= min_support`` (0.1) for a confident semantic
  token-list label (a label explained by where the neuron fires); false for unconfident, form
  and empty labels.

**Signs.** The value row of sign +1 (the tokens ``v`` promotes) is paired with the neuron's
contexts of sign +1 (its largest positive coefficients, where the layer adds ``+v``), the row
of sign -1 (the top of ``-v``) with its contexts of sign -1 (the most negative coefficients,
where the layer adds ``-v``): the same pairing as :mod:`vocablens.activations.agreement`.

**Use.** The columns are evidence only: ``label`` and ``confident`` stay what the value's own
tokens say (on the judged SmolLM2 set, ``benchmarks/bench_context_evidence.py``, promoting
supported unconfident labels did not pay; see ``benchmarks/README.md``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vocablens.annotate.labeler import ConceptLabeler, Label
from vocablens.errors import InputError, ResultFileError

#: Which context token is read: the trigger (where the neuron fires) or the token after it.
CONTEXT_TOKENS = ("trigger", "next")
#: The frame column of each choice.
_TOKEN_COLUMN = {"trigger": "token", "next": "next_token"}
#: Top tokens of a value vector that count for the agreement (as ``vocablens activations``).
DEFAULT_AGREE_K = 10
#: The support share a semantic label needs to be supported by its contexts.
DEFAULT_MIN_SUPPORT = 0.1
_KEYS = ["layer", "expert", "index", "sign"]
_SYNSET = re.compile(r"^[\w'.-]+\.[nvasr]\.\d\d$")
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


@dataclass(frozen=True)
class ContextRun:
    """A finished corpus run, as the annotator reads it.

    Attributes:
        folder: where it was read from (None for a run given in memory).
        manifest: the run's manifest.
        contexts: one row per (layer, expert, index, sign, rank) top context, with ``token``,
            ``next_token``, ``next_token_id`` (see
            :class:`~vocablens.activations.files.Activations`).
        layers: the layers the run recorded.
    """

    folder: Path | None
    manifest: dict[str, Any]
    contexts: pd.DataFrame
    layers: tuple[int, ...]


def open_context_run(source: Any) -> ContextRun:
    """A corpus run folder (or an :class:`~vocablens.activations.files.Activations`) for evidence.

    Raises:
        ResultFileError: not a folder, not a finished run, or a damaged file.
    """
    from vocablens.activations.files import Activations, read_activations

    if isinstance(source, ContextRun):
        return source
    if isinstance(source, Activations):
        acts, folder = source, None
    else:
        folder = Path(os.fspath(source))
        if not folder.is_dir():
            raise ResultFileError(
                f"activations {folder} is not a folder of `vocablens activations`"
            )
        acts = read_activations(folder)
    layers = acts.manifest.get("options", {}).get("layers")
    if not isinstance(layers, list):
        layers = sorted(int(x) for x in acts.contexts["layer"].unique())
    return ContextRun(folder, acts.manifest, acts.contexts, tuple(int(x) for x in layers))


def check_run(run: ContextRun, projections_manifest: dict[str, Any], layers: Sequence[int]) -> None:
    """Refuse a run of another model, or one that lacks layers the annotation needs.

    The model is compared by name (a model folder also by its resolved path) and model card
    (family, sizes, vocabulary) when the projections have a manifest; a bare DataFrame of
    projections has none to compare.

    Raises:
        InputError: another model, or missing layers (one line naming them).
    """
    where = run.folder if run.folder is not None else "the activations"
    theirs, ours = run.manifest, projections_manifest
    if ours.get("model") is not None and not _same_model(theirs.get("model"), ours.get("model")):
        raise InputError(f"{where} holds activations of {theirs.get('model')!r}, the projections "
                         f"are of {ours.get('model')!r}: run `vocablens activations` on that model")  # fmt: skip
    card_a, card_b = theirs.get("model_card"), ours.get("model_card")
    if isinstance(card_a, dict) and isinstance(card_b, dict):
        differ = sorted(k for k in set(card_a) & set(card_b) if card_a[k] != card_b[k])
        if differ:
            raise InputError(f"{where} holds activations of another model than the projections "
                             f"({', '.join(differ)} differ)")  # fmt: skip
    missing = sorted(set(int(x) for x in layers) - set(run.layers))
    if missing:
        shown = ",".join(str(x) for x in missing)
        raise InputError(f"{where} holds no activations of layer{'s' if len(missing) > 1 else ''} "
                         f"{shown}: run `vocablens activations` with --layers {shown}, or "
                         "annotate only the layers it has")  # fmt: skip


def _same_model(a: Any, b: Any) -> bool:
    """Two manifests' model names: equal, or two spellings of one model folder."""
    if a == b:
        return True
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    pa, pb = Path(a), Path(b)
    return pa.exists() and pb.exists() and pa.resolve() == pb.resolve()


def token_word(token: str) -> str:
    """A token as a lower-case word: leading space and edge punctuation off."""
    from vocablens.annotate.concept_search import token_word as word

    return word(token)


class _Terms:
    """The words that count as support for a token-list label (see the module docstring)."""

    def __init__(self) -> None:
        from vocablens.annotate.wordnet import open_wordnet

        self.wn = open_wordnet()
        self._closures: dict[str, frozenset[str]] = {}
        self._bases: dict[str, tuple[str, ...]] = {}

    def closure(self, synset: str) -> frozenset[str]:
        hit = self._closures.get(synset)
        if hit is None:
            from vocablens.annotate.concept_search import expand_concept

            hit = expand_concept(synset, self.wn).lemmas
            self._closures[synset] = hit
        return hit

    def bases(self, word: str) -> tuple[str, ...]:
        hit = self._bases.get(word)
        if hit is None:
            found = {self.wn.morphy(word, p) for p in ("n", "v", "a")} if word.isalpha() else set()
            hit = tuple(b for b in found if b and b != word)
            self._bases[word] = hit
        return hit

    def of(self, label: Label) -> frozenset[str]:
        words = {token_word(t) for t in label.explained}
        if label.synset and _SYNSET.match(label.synset):
            words |= self.closure(label.synset)
        return frozenset(w for w in words if w)

    def matches(self, token: str, terms: frozenset[str], number: bool) -> bool:
        word = token_word(token)
        if not word:
            return False
        if word in terms or any(b in terms for b in self.bases(word)):
            return True
        return number and bool(re.fullmatch(r"[\d.,]+(st|nd|rd|th)?", word))


def support_share(tokens: Sequence[str], label: Label, terms: _Terms) -> float:
    """The share of context ``tokens`` that fall in ``label``'s terms (0 for an empty list)."""
    if not tokens:
        return 0.0
    words = terms.of(label)
    number = label.supersense == "number"
    return sum(terms.matches(t, words, number) for t in tokens) / len(tokens)


def check_options(tokens: str, k: int, min_support: float = DEFAULT_MIN_SUPPORT) -> None:
    """Check the evidence options (:func:`context_evidence`'s ``tokens``, ``k``, ``min_support``).

    Raises:
        InputError: a bad value (named in the message).
    """
    if tokens not in CONTEXT_TOKENS:
        raise InputError(
            f"context tokens must be one of {', '.join(CONTEXT_TOKENS)}, got {tokens!r}"
        )
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"the agreement's top-k must be a positive integer, got {k!r}")
    if not 0.0 <= float(min_support) <= 1.0:
        raise InputError(f"min_support must lie in [0, 1], got {min_support!r}")


def context_agreement(contexts: pd.DataFrame, values: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per (layer, expert, index, sign): the share of contexts whose next token is in the top-k.

    Args:
        contexts: a run's contexts (``layer, expert, index, sign, next_token_id``).
        values: value projections in the long layout (``layer, expert, index, sign, rank,
            token_id``), of one readout.
        k: top tokens of each value vector and sign that count.

    Returns:
        Columns ``layer, expert, index, sign, context_agreement`` (float64), one row per key
        with at least one context that has a next token.
    """
    from vocablens.activations.agreement import context_hits

    rows = contexts[contexts["next_token_id"] >= 0].reset_index(drop=True)
    frame = rows[_KEYS].copy()
    frame["context_agreement"] = context_hits(rows, values, k).astype(np.float64)
    return frame.groupby(_KEYS, as_index=False)["context_agreement"].mean()


def context_evidence(
    run: Any,
    values: pd.DataFrame,
    labels: dict[tuple[int, int, int, int], Label],
    labeler: ConceptLabeler,
    *,
    k: int = DEFAULT_AGREE_K,
    tokens: str = "trigger",
    min_support: float = DEFAULT_MIN_SUPPORT,
) -> pd.DataFrame:
    """The evidence columns of every value vector side in ``labels`` (module docstring).

    Args:
        run: a corpus run (folder, :class:`~vocablens.activations.files.Activations` or
            :class:`ContextRun`).
        values: the value projections read (``layer, expert, index, sign, rank, token_id``).
        labels: the token-list label of each (layer, expert, index, sign).
        labeler: a fitted :class:`ConceptLabeler` (the one that made ``labels``).
        k: top value tokens that count for ``context_agreement``.
        tokens: ``"trigger"`` or ``"next"``: which context token is labelled and matched.
        min_support: the support share that makes ``context_support`` true.

    Returns:
        One row per key of ``labels``: ``layer, expert, index, sign`` and
        :data:`~vocablens.annotate.result.EVIDENCE_COLUMNS`; a neuron without contexts has null
        agreement, an empty context label and no support.

    Raises:
        InputError: a bad ``tokens``, ``k`` or ``min_support``.
    """
    check_options(tokens, k, min_support)
    run = open_context_run(run)
    contexts = run.contexts
    wanted = pd.DataFrame(list(labels), columns=_KEYS)
    contexts = contexts.merge(wanted, on=_KEYS, how="inner")
    agree = context_agreement(contexts, values, k)
    agree_of = {tuple(int(v) for v in key): float(a)
                for *key, a in agree.itertuples(index=False, name=None)}  # fmt: skip
    column = _TOKEN_COLUMN[tokens]
    contexts = contexts.sort_values([*_KEYS, "rank"], kind="stable")
    if tokens == "next":
        contexts = contexts[contexts["next_token_id"] >= 0]
    listed = contexts.groupby(_KEYS, sort=False)[column].agg(list)
    token_lists = {tuple(int(v) for v in key): [str(t) for t in toks]
                   for key, toks in listed.items()}  # fmt: skip
    terms = _Terms()
    rows = []
    for key, label in labels.items():
        found = token_lists.get(key, [])
        context = labeler.label(found) if found else None
        share = support_share(found, label, terms) if label.label else 0.0
        rows.append({
            "layer": key[0], "expert": key[1], "index": key[2], "sign": key[3],
            "context_agreement": agree_of.get(key, np.nan),
            "context_label": context.label if context else "",
            "context_label_kind": context.kind if context else "none",
            "context_coverage": float(context.coverage) if context else 0.0,
            "context_confident": bool(context.confident) if context else False,
            "context_support_share": share,
            "context_support": bool(label.semantic and share >= min_support),
        })  # fmt: skip
    return pd.DataFrame(rows)
