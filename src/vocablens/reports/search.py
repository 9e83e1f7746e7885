"""The search box's index: neurons and heads by the tokens they promote and their concepts.

The index is compact JSON (token strings interned in one table) written as ``search-index.js``,
a classic script that every page loads by relative path (works from ``file://``, no request).
"""

from __future__ import annotations

import json
from typing import Any

from vocablens.reports.page_rows import Key, NeuronLabel, Unit, unit_order

_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def script_json(value: Any) -> str:
    r"""JSON text that is safe inside a ``<script>`` element or a ``.js`` file.

    ``<``, ``>``, ``&`` and the line separators U+2028/U+2029 are written as ``\\uXXXX`` escapes, so
    no string can close the script (``</script>``), open a comment (``<!--``) or break a line.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in _SCRIPT_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


class _Interner:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.items: list[str] = []

    def __call__(self, text: str) -> int:
        found = self.ids.get(text)
        if found is None:
            found = self.ids[text] = len(self.items)
            self.items.append(text)
        return found


def build_index(
    layers: list[int],
    values: dict[Key, list[tuple]],
    labels: dict[tuple[int, Unit], NeuronLabel],
    ov_promoted: dict[Key, list[tuple]],
    ov_pairs: dict[Key, list[tuple]],
    *,
    k: int = 10,
    k_suppressed: int = 5,
    k_pairs: int = 10,
    label_terms: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """The search index of a report.

    Args:
        layers: the report's layers.
        values: per (layer, unit, sign) the value vector's top (token, score) list.
        labels: per (layer, unit) the value vector's label.
        ov_promoted: per (layer, head, 1) the head's promoted (token, score) list.
        ov_pairs: per (layer, head, 1) the head's top (source, output, score) OV pairs.
        k: promoted tokens kept per neuron and head.
        k_suppressed: suppressed tokens kept per neuron.
        k_pairs: OV pairs kept per head.
        label_terms: per label text, the WordNet words a search may use to find it
            (:func:`label_expansions`); None: labels are found by their own text only.

    Returns:
        ``{"tokens": [...], "labels": [...], "terms": [...], "label_terms": [...],
        "neurons": [...], "heads": [...]}`` where ``tokens``, ``labels`` and ``terms`` are
        string tables, ``label_terms[i]`` the term ids of label ``i`` (its WordNet synonyms,
        hyponyms and near hypernyms: searching "weekday" finds "day of the week"), and

        * a neuron is ``[layer, unit (index, or "expert.index" in an MoE layer), label id (-1: none), supersense id (-1), confident (0/1),
          [promoted token ids], [suppressed token ids]]``,
        * a head is ``[layer, head, [promoted token ids], [src, dst, src, dst, ...]]`` (its top
          OV pairs as token ids).
    """
    wanted = set(layers)
    tok, lab = _Interner(), _Interner()
    neurons = []
    keys = sorted({(lay, n) for (lay, n, _) in values if lay in wanted}
                  | {key for key in labels if key[0] in wanted},
                  key=lambda key: (key[0], unit_order(key[1])))  # fmt: skip
    for lay, n in keys:
        info = labels.get((lay, n), NeuronLabel())
        neurons.append([
            lay, n,
            lab(info.label) if info.label else -1,
            lab(info.supersense) if info.supersense else -1,
            int(info.confident),
            [tok(t) for t, _ in values.get((lay, n, 1), [])[:k]],
            [tok(t) for t, _ in values.get((lay, n, -1), [])[:k_suppressed]],
        ])  # fmt: skip
    heads = []
    for lay, h in sorted(
        {(key[0], key[1]) for key in (*ov_promoted, *ov_pairs) if key[0] in wanted}
    ):
        flat: list[int] = []
        for src, dst, _ in ov_pairs.get((lay, h, 1), [])[:k_pairs]:
            flat += [tok(src), tok(dst)]
        heads.append([lay, h, [tok(t) for t, _ in ov_promoted.get((lay, h, 1), [])[:k]], flat])
    words = _Interner()
    expansions = label_terms or {}
    terms = [[words(t) for t in expansions.get(label, ())] for label in lab.items]
    return {"tokens": tok.items, "labels": lab.items, "terms": words.items, "label_terms": terms,
            "neurons": neurons, "heads": heads}  # fmt: skip


def label_expansions(annotations: Any, max_terms: int = 40) -> dict[str, tuple[str, ...]]:
    """Per label of ``annotations``, the words a search may use to find it.

    Each label with a WordNet synset gets :func:`~vocablens.annotate.concept_search.label_terms`
    of its synset (the first synset seen for a label text). Without a ``synset`` column, or
    without a WordNet database on this machine, nothing (the search then matches label text).

    Args:
        annotations: an :class:`~vocablens.annotate.result.Annotations` (or its DataFrame,
            columns ``label`` and ``synset``), or None.
        max_terms: most terms kept per label.
    """
    annotations = getattr(annotations, "frame", annotations)
    if annotations is None or "synset" not in getattr(annotations, "columns", ()):
        return {}
    from vocablens.annotate.concept_search import label_terms
    from vocablens.annotate.wordnet import WordNetNotFoundError, open_wordnet

    pairs = annotations.loc[annotations["synset"].notna(), ["label", "synset"]]
    pairs = pairs[pairs["label"].astype(str) != ""].drop_duplicates("label")
    if pairs.empty:
        return {}
    try:
        wn = open_wordnet()
    except WordNetNotFoundError:
        return {}
    return {
        str(label): label_terms(str(label), str(synset), wn)[:max_terms]
        for label, synset in zip(pairs["label"], pairs["synset"], strict=True)
    }


def index_script(index: dict[str, Any]) -> str:
    """The ``search-index.js`` file: one assignment of the escaped JSON index."""
    return f"window.VOCABLENS_INDEX = {script_json(index)};\n"
