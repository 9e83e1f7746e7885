"""One call from a model to a report folder: compute, then render."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vocablens.atomic import check_replaceable_folder
from vocablens.errors import InputError
from vocablens.layerspec import LayerSpec
from vocablens.reports.compute import compute_report, compute_steps, report_layers, resolve_model
from vocablens.reports.config import Prompt, ReportConfig
from vocablens.reports.progress import Progress, duration, folder_size, size
from vocablens.reports.prompts import default_prompts
from vocablens.reports.render import MARKER, render_report, render_steps


def generate_report(
    model: Any,
    prompts: Prompt | Sequence[Prompt] | None = None,
    layers: LayerSpec = None,
    out: str | os.PathLike[str] = "report",
    *,
    config: ReportConfig | None = None,
    progress: bool = True,
    **options: Any,
) -> Path:
    """Write a report on ``model`` into the folder ``out``.

    The folder gets ``index.html`` (model card, logit-lens heatmaps and curves, concept
    fractions, links to every layer), one ``layer_NNN.html`` per layer, the figures in ``img/``
    and the search index. It opens offline from the file system. The previous report in ``out``
    is replaced only once the new one is complete.

    Args:
        model: anything :func:`vocablens.load_model` accepts (``"smollm2-135m"``, a path, ...).
        prompts: a prompt or a list of prompts (strings or token-id lists); None: the built-in
            examples.
        layers: the layers that get a page (``"0-5,10"``, a list, an int); None: all.
        out: the report folder.
        config: a full :class:`ReportConfig`; ``prompts``, ``layers`` and ``options`` override
            its fields when given.
        progress: show the run's progress on standard error: one bar on a terminal, one plain
            line per step otherwise, and a closing line with the time taken and the size.
        **options: other :class:`ReportConfig` fields (``value_k=30``, ``umap=False``, ...).

    Returns:
        The report folder.

    Raises:
        VocabLensError: bad prompts, layers or options, a model that cannot be loaded, or an
            ``out`` that is a file or a non-empty folder other than a report.

    Example:
        >>> generate_report("smollm2-135m", ["The capital of France is"], layers="0-3")  # doctest: +SKIP
        PosixPath('report')
    """
    fields = dict(vars(config)) if config is not None else {}
    unknown = sorted(set(options) - set(ReportConfig.__dataclass_fields__))
    if unknown:
        raise InputError(f"unknown report option {unknown[0]!r}")
    fields.update(options)
    if prompts is not None:
        single = isinstance(prompts, str) or (bool(prompts) and isinstance(prompts[0], int))
        fields["prompts"] = [prompts] if single else list(prompts)
    if layers is not None:
        fields["layers"] = layers
    cfg = ReportConfig(**fields).check()
    target = check_replaceable_folder(out, MARKER, "report")  # fail before minutes of computing
    start = time.perf_counter()
    lm, load_s = resolve_model(model)  # the only place a report loads the model
    layers = report_layers(cfg, lm)
    n_prompts = len(cfg.prompts) or len(default_prompts())
    total = compute_steps(cfg, len(layers)) + render_steps(
        n_prompts, len(layers), cfg.umap, cfg.explain
    )
    bar = Progress(total, enabled=progress)
    bar.timings["load model"] = load_s
    try:
        data = compute_report(lm, cfg, progress=bar)
        folder = render_report(data, target, progress=bar)
    except BaseException:
        bar.finish()  # close the bar; no closing line for a failed run
        raise
    pages = len(layers)
    bar.finish(f"wrote {folder}/ ({pages} layer page{'s' if pages != 1 else ''}, "
               f"{size(folder_size(folder))}) in {duration(time.perf_counter() - start)}")  # fmt: skip
    return folder
