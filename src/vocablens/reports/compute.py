"""Compute what a report shows. The only report module that touches the model.

:func:`compute_report` loads the model once and runs, with one progress bar: the logit lens of
the prompts, the FFN value-vector projections of the chosen layers, their concept annotation, a
UMAP of the value vectors, and the attention heads' OV projections over a token subset.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import warnings
from contextlib import contextmanager
from typing import Any

import numpy as np

from vocablens.errors import VocabLensError
from vocablens.layerspec import parse_layers
from vocablens.reports.config import ReportConfig
from vocablens.reports.prompts import default_prompts
from vocablens.reports.report_data import ReportData

log = logging.getLogger(__name__)


class _Steps:
    """One progress bar over every computation step, and the seconds each took."""

    def __init__(self, total: int, enabled: bool):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc="computing report", unit="step", disable=not enabled)
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str, group: str | None = None, count: int = 1):
        self.bar.set_postfix_str(name, refresh=True)
        start = time.perf_counter()
        try:
            yield
        finally:
            key = group or name
            self.timings[key] = self.timings.get(key, 0.0) + time.perf_counter() - start
            self.bar.update(count)

    def close(self) -> None:
        self.bar.close()


def ov_token_subset(lm: Any, n: int) -> list[int]:
    """The token set of the OV projections: ``n`` common whole-word tokens.

    Whole words (:func:`~vocablens.project.tokensets.whole_word_tokens`) with the lowest ids (byte-
    level BPE gives frequent merges low ids), leaving out tokens whose unembedding norm is an
    outlier (above the median + 4 robust SDs): in tied-embedding models these are word fragments
    (``" strugg"``, ``" acknow"``) whose large norm puts them on top of every head's readout.
    Without a tokenizer (or without words): the ``n`` lowest ids.
    """
    import torch

    from vocablens.model.tokenizer import whole_word_tokens

    vocab = lm.view.vocab_size
    words: list[int] = []
    if lm.tokenizer is not None:
        try:
            words = whole_word_tokens(lm.tokenizer, vocab)
        except VocabLensError:
            words = []
    if len(words) < min(n, 16):
        return list(range(min(n, vocab)))
    with torch.inference_mode():
        norms = lm.view.W_U[torch.tensor(words)].float().norm(dim=1).numpy()
    median = np.median(norms)
    spread = 1.4826 * np.median(np.abs(norms - median))
    limit = median + 4 * spread if spread > 0 else np.inf
    kept = [w for w, norm in zip(words, norms, strict=True) if norm <= limit]
    return kept[:n]


def value_umap(lm: Any, layers: list[int], annotations: Any = None, *, seed: int = 0) -> Any:
    """2-D UMAP coordinates of the value vectors of ``layers``, one map for all of them.

    Uses :func:`vocablens.annotate.maps.umap_map` with a faster reducer: rows unit-normalised
    (cosine geometry), PCA to 50 dimensions, then a seeded UMAP (deterministic). About a minute
    for SmolLM2-135M's 46k vectors on 2 cores, plus ~20 s of one-off numba compilation.

    Returns:
        Columns ``layer``, ``neuron``, ``x``, ``y``, ``label`` (the confident concept, ``""``
        when none) and ``label_kind``.
    """
    import umap
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    from vocablens.annotate.maps import UNLABELLED, umap_map

    n = sum(lm.view.mlp(layer).d_mlp for layer in layers)
    dims = min(50, n, lm.view.d_model)
    reducer = make_pipeline(
        Normalizer(),
        PCA(dims, random_state=seed),
        umap.UMAP(n_components=2, n_neighbors=max(2, min(15, n - 1)), random_state=seed,
                  n_epochs=200 if n > 10_000 else None),
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "n_jobs overridden by random_state"
        coords = umap_map(lm, layers, annotations, reducer=reducer)
    coords["label"] = coords["label"].where(coords["label"] != UNLABELLED, "")
    return coords


def compute_report(
    model: Any, config: ReportConfig | None = None, *, progress: bool = True
) -> ReportData:
    """Compute everything a report shows.

    Args:
        model: anything :func:`vocablens.load_model` accepts (a path, hub id, ``smollm2-135m``,
            a loaded model).
        config: what to compute (defaults: :class:`ReportConfig`).
        progress: show a progress bar.

    Returns:
        The :class:`ReportData` (no model inside).

    Raises:
        VocabLensError: bad configuration, prompts or layers, or a model that cannot be loaded.
    """
    import torch

    from vocablens.lens.logit_lens import Lens
    from vocablens.model.loading import load_model
    from vocablens.project.projector import Projector

    config = (config or ReportConfig()).check()
    prompts = list(config.prompts) or default_prompts()
    notes: list[str] = []
    steps = _Steps(total=3, enabled=progress)  # grows once the layers are known
    try:
        with steps.step("load model"):
            lm = load_model(model)
        view = lm.view
        layers = parse_layers(config.layers, view.n_layers) or list(range(view.n_layers))
        steps.bar.total = 3 + len(layers) * (1 + config.ov) + config.annotate + config.umap
        steps.bar.refresh()
        with steps.step("logit lens"):
            lens = Lens(lm)(prompts, k=config.lens_k, sites=("resid",), bos=config.bos,
                            truncate=config.truncate)  # fmt: skip
        with steps.step("model card"):
            card = view.describe()

        with torch.inference_mode():
            projector = Projector(lm, min(config.value_k, view.vocab_size))
            tables = []
            for layer in layers:
                with steps.step(f"values layer {layer}", "value projections"):
                    tables += projector.ffn(layer, ["values"])
            values = projector.result(tables).to_pandas()

        annotations = confident = None
        if config.annotate:
            with steps.step("concept annotation"):
                wanted = values if config.annotate_suppressed else values[values["sign"] > 0]
                annotations, confident = _annotate(wanted, lm, notes)
        umap_coords = None
        if config.umap:
            with steps.step("UMAP of value vectors"):
                umap_coords = value_umap(lm, layers, annotations)

        ov = None
        if config.ov:
            subset = ov_token_subset(lm, config.ov_tokens)
            notes.append(f"Attention OV circuits are read over {len(subset)} common whole-word "
                         "tokens on both sides (word fragments with outlying unembedding norms "
                         "left out).")  # fmt: skip
            with torch.inference_mode():
                heads = Projector(lm, min(config.ov_k, len(subset)), tokens=subset,
                                  src_tokens=subset)  # fmt: skip
                tables = []
                for layer in layers:
                    with steps.step(f"OV layer {layer}", "OV projections"):
                        tables += heads.ov(layer)
                ov = heads.result(tables).to_pandas()
    finally:
        steps.close()
    return ReportData(
        model_name=lm.name, card=card, config=config, layers=layers, lens=lens, values=values,
        annotations=annotations, confident=confident, umap=umap_coords, ov=ov, notes=notes,
        timings=steps.timings,
        created=dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
    )  # fmt: skip


def _annotate(values: Any, lm: Any, notes: list[str]) -> tuple[Any, Any]:
    """Concept labels of the value vectors and the confident fraction per layer.

    A missing WordNet only costs the concept sections: the report says why.
    """
    from vocablens.annotate import annotate_projections
    from vocablens.annotate.maps import confident_fraction

    try:
        annotations = annotate_projections(values, model=lm, kinds=["values"])
    except VocabLensError as exc:
        notes.append(f"Concept annotation skipped: {exc}")
        log.warning("concept annotation skipped: %s", exc)
        return None, None
    return annotations, confident_fraction(annotations)
