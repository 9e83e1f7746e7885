"""Compute what a report shows. The only report module that touches the model.

:func:`compute_report` resolves the model once (:func:`resolve_model`; nothing below loads it
again) and runs, counting its steps on one :class:`~vocablens.reports.progress.Progress`: the
logit lens of the prompts, the FFN value-vector projections of the chosen layers, their concept
annotation, a UMAP of the value vectors, and the attention heads' OV projections over a token
subset.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vocablens.annotate.pipeline import DEFAULT_READOUT as LABEL_READOUT
from vocablens.errors import VocabLensError
from vocablens.layerspec import parse_layers
from vocablens.reports.config import ReportConfig
from vocablens.reports.progress import Progress
from vocablens.reports.prompts import default_prompts
from vocablens.reports.report_data import ReportData

if TYPE_CHECKING:
    from vocablens.annotate.result import Annotations
    from vocablens.model.loading import LoadedModel

log = logging.getLogger(__name__)


def resolve_model(model: Any) -> tuple[LoadedModel, float]:
    """The :class:`~vocablens.model.loading.LoadedModel` of ``model`` and the seconds it took.

    A LoadedModel is returned as it is (0 s); anything else goes through
    :func:`~vocablens.load_model` once.
    """
    from vocablens.model.loading import LoadedModel, load_model

    if isinstance(model, LoadedModel):
        return model, 0.0
    start = time.perf_counter()
    lm = load_model(model)
    return lm, time.perf_counter() - start


def report_layers(config: ReportConfig, lm: LoadedModel) -> list[int]:
    """The layers that get a page: ``config.layers`` checked against the model, or all."""
    return parse_layers(config.layers, lm.view.n_layers) or list(range(lm.view.n_layers))


def compute_steps(config: ReportConfig, n_layers: int) -> int:
    """How many progress steps :func:`compute_report` takes for ``n_layers`` report layers."""
    per_layer = 1 + config.annotate + config.umap + config.ov  # values, annotation, UMAP, OV
    return 1 + n_layers * per_layer + config.explain


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


def compute_report(
    model: Any, config: ReportConfig | None = None, *, progress: bool | Progress = True
) -> ReportData:
    """Compute everything a report shows.

    Args:
        model: a :class:`~vocablens.model.loading.LoadedModel` (used as it is) or anything
            :func:`vocablens.load_model` accepts (loaded once, here).
        config: what to compute (defaults: :class:`ReportConfig`).
        progress: show progress (True / False), or the run's
            :class:`~vocablens.reports.progress.Progress` to count the steps on.

    Returns:
        The :class:`ReportData` (no model inside).

    Raises:
        VocabLensError: bad configuration, prompts or layers, or a model that cannot be loaded.
    """
    import torch

    from vocablens.lens.logit_lens import Lens
    from vocablens.project.projector import Projector, layer_tables

    config = (config or ReportConfig()).check()
    prompts = list(config.prompts) or default_prompts()
    lm, load_s = resolve_model(model)
    view = lm.view
    layers = report_layers(config, lm)
    steps = progress
    if not isinstance(steps, Progress):
        steps = Progress(compute_steps(config, len(layers)), enabled=bool(progress))
    if load_s:
        steps.timings["load model"] = load_s
    notes: list[str] = []
    people = _people(config, notes)  # a bad campaign fails before the model work
    try:
        with steps.step("logit lens"):
            lens = Lens(lm)(prompts, k=config.lens_k, sites=("resid",), bos=config.bos,
                            truncate=config.truncate)  # fmt: skip
        card = view.describe()

        with torch.inference_mode():
            projector = Projector(lm, min(config.value_k, view.vocab_size))
            labelled = projector.with_readout(LABEL_READOUT)  # what the annotator reads
            projectors = [projector, labelled] if config.annotate else [projector]
            tables, label_tables = [], []
            for layer in layers:  # raw (shown) and cosine (labelled) tables: one product
                with steps.step(f"values layer {layer}", "value projections"):
                    both = layer_tables(projectors, layer, ["values"])  # projector by projector
                    n = len(both) // len(projectors)
                    tables += both[:n]
                    label_tables += both[n:]
            values = projector.result(tables).to_pandas()
            label_values = labelled.result(label_tables).to_pandas() if config.annotate else None

        annotations = None
        if config.annotate:
            with steps.step("concept annotation", count=len(layers)):
                assert label_values is not None
                both_readouts = [label_values, values]  # the form may be read on the raw list
                wanted = pd.concat(both_readouts, ignore_index=True)
                if not config.annotate_suppressed:
                    wanted = wanted[wanted["sign"] > 0]
                annotations = _annotate(wanted, lm, notes, steps)
        umap_coords = None
        if config.umap:
            from vocablens.annotate.value_umap import value_umap

            with steps.step("UMAP of value vectors", count=len(layers)):
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
        contexts, agreement, agree_k = _corpus_run(config, lm, layers, notes)

        explanations = None
        if config.explain:
            with steps.step("explain the predictions", "explain"):
                explanations = explain_prompts(lm, prompts, config, annotations, notes)
    finally:
        if steps is not progress:
            steps.finish()
    return ReportData(
        contexts=contexts, agreement=agreement, agree_k=agree_k,
        model_name=lm.name, card=card, config=config, layers=layers, lens=lens, values=values,
        annotations=annotations, umap=umap_coords, ov=ov, explanations=explanations,
        people=people, notes=notes,
        timings=dict(steps.timings),
        created=dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
    )  # fmt: skip


def _corpus_run(config: ReportConfig, lm: LoadedModel, layers: list[int],
                notes: list[str]) -> tuple[Any, Any, int]:  # fmt: skip
    """The top contexts and agreement of ``config.activations`` (None, None, 0 without one)."""
    if config.activations is None:
        return None, None, 0
    from vocablens.reports.activation_rows import load_contexts

    contexts, agreement, model = load_contexts(config.activations, layers)
    if model != lm.name:
        notes.append(f"The top-activating contexts come from a run of {model!r}, "
                     f"not of {lm.name!r}.")  # fmt: skip
    k = 0 if agreement is None or not len(agreement) else int(agreement["k"].iloc[0])
    return contexts, agreement, k


def explain_prompts(
    lm: LoadedModel, prompts: list[Any], config: ReportConfig, annotations: Any, notes: list[str]
) -> list[Any]:
    """The direct logit attribution of each prompt's last position, one per prompt.

    A prompt that cannot be explained gets None and a note saying why.
    """
    from vocablens.explain import explain

    out: list[Any] = []
    for p, prompt in enumerate(prompts):
        try:
            out.append(explain(lm, prompt, bos=config.bos, truncate=config.truncate,
                               annotations=annotations, geva_top=5))  # fmt: skip
        except VocabLensError as exc:
            notes.append(f"Prompt {p} not explained: {exc}")
            out.append(None)
    return out


def _annotate(
    values: Any, lm: LoadedModel, notes: list[str], steps: Progress
) -> Annotations | None:
    """Concept labels of the value vectors (read on the annotator's readout, LABEL_READOUT).

    A missing WordNet only costs the concept sections: the report says why.
    """
    from vocablens.annotate import annotate_projections

    try:
        return annotate_projections(values, kinds=["values"], progress=steps.part,
                                    readout=LABEL_READOUT)  # fmt: skip
    except VocabLensError as exc:
        notes.append(f"Concept annotation skipped: {exc}")
        log.warning("concept annotation skipped: %s", exc)
        return None


def _people(config: ReportConfig, notes: list[str]) -> Any:
    """The people's labels of ``config.campaign`` (None without one); a note says how many."""
    if config.campaign is None:
        return None
    from vocablens.campaign.people import read_people_labels

    people = read_people_labels(config.campaign)
    n_final = int(people["adjudicated"].sum())
    notes.append(f"People's labels from the campaign {config.campaign}: {n_final} adjudicated, "
                 f"{len(people) - n_final} by majority.")  # fmt: skip
    return people
