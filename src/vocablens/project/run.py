"""Resumable projection runs: one Parquet file per layer plus ``manifest.json`` in a folder.

A run that is killed and restarted with the same model and options skips the finished layers
(the manifest lists them; files are renamed into place only when complete).
"""

from __future__ import annotations

import platform
import shutil
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from vocablens.atomic import check_folder_target
from vocablens.errors import InputError
from vocablens.layerspec import LayerSpec, layer_list, parse_layers
from vocablens.model.devices import DTYPES, resolve_device, resolve_dtype
from vocablens.model.loading import LoadedModel, load_model
from vocablens.project import files as projfile
from vocablens.project.projector import Projector, layer_tables, parse_what
from vocablens.project.readouts import HUB_K, check_hub_k, parse_readouts

_READOUT_OPTIONS = ("hub", "mask_untrained")  # absent from format-2 manifests: defaults

__all__ = ["DTYPES", "ProjectConfig", "project_to_dir"]


@dataclass(frozen=True)
class ProjectConfig:
    """Options of a projection run (what ``vocablens project`` builds from its arguments).

    Attributes:
        model: a model spec for :func:`~vocablens.model.loading.load_model`, or a
            ``LoadedModel`` (what the CLI passes: it loads the model once).
        out: output folder.
        what: comma-separated projections (see :func:`~vocablens.project.projector.parse_what`).
        layers: layer spec like ``"0-5"`` or ``"0,2,4-6"`` (or a list); None for all.
        k: top-k per vector and sign (per head for pairs).
        device: where to compute (``"cpu"``, ``"cuda"``, ...); None: where a loaded model is,
            the CPU for a spec.
        dtype: weights dtype name: float32, bfloat16 or float16.
        tokens: output-side token set, ``"all"`` or ``"words"``.
        src_tokens: source/query-side token set, ``"all"`` or ``"words"``.
        final_norm: read written vectors through the final norm's gain.
        block_mb: size of the reused logits block.
        progress: show a progress bar.
        readouts: comma-separated vector-table readouts (``raw``, ``cosine``, ``csls``; see
            :mod:`vocablens.project.readouts`): one table per readout.
        hub_k: ``K`` of the CSLS hub statistic.
        mask_untrained: leave untrained tokens out of vector tables; None: yes for cosine and
            csls, no for raw.
    """

    model: str | LoadedModel
    out: Path
    what: str = "values,keys"
    layers: LayerSpec = None
    k: int = 30
    device: str | None = None
    dtype: str = "float32"
    tokens: str = "all"
    src_tokens: str = "all"
    final_norm: bool = True
    block_mb: float = 192
    progress: bool = True
    readouts: str = "raw"
    hub_k: int = HUB_K
    mask_untrained: bool | None = None

    def check(self) -> ProjectConfig:
        """The checks that need no model: output folder, projections, k, layers, device, dtype.

        Returns:
            self.

        Raises:
            InputError: a bad value (named in the message).
        """
        check_folder_target(self.out)
        parse_what(self.what)
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise InputError(f"top-k must be a positive integer, got {self.k!r}")
        parse_layers(self.layers)
        parse_readouts(self.readouts)
        check_hub_k(self.hub_k)
        resolve_dtype(self.dtype)
        if self.device is not None:
            resolve_device(self.device)
        return self

    def model_name(self) -> str:
        """The model's name as the manifest records it (the spec, or a loaded model's name)."""
        return self.model.name if isinstance(self.model, LoadedModel) else str(self.model)

    def options(self) -> dict[str, Any]:
        """The options that change results (a restart must repeat them to resume)."""
        return {
            "what": list(parse_what(self.what)),
            "k": self.k,
            "dtype": self.dtype,
            "tokens": self.tokens,
            "src_tokens": self.src_tokens,
            "final_norm": self.final_norm,
            "readouts": list(parse_readouts(self.readouts)),
            "hub": {"k": self.hub_k, "statistic": "mean of each token's K highest cosines"},
            "mask_untrained": self.mask_untrained,
        }


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("vocablens", "torch", "transformers", "pyarrow", "pandas"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions


def _start_manifest(config: ProjectConfig, card: dict[str, Any], layers: list[int]) -> dict:
    """The existing manifest when resuming a compatible run, else a fresh one."""
    out = Path(config.out)
    options = config.options()
    if (out / projfile.MANIFEST).exists():
        old = projfile.read_manifest(out)
        old_options = old.get("options")
        if isinstance(old_options, dict) and "readouts" not in old_options:  # format <= 2: raw
            old_options = {**old_options, **{k: options[k] for k in _READOUT_OPTIONS}}
            old_options["readouts"] = ["raw"]
        if old.get("model") != config.model_name() or old_options != options:
            raise InputError(
                f"{out} holds projections of another model or other options; "
                "use a new --out folder or repeat the original options"
            )
        listed = old.get("finished")
        listed = listed if isinstance(listed, dict) else {}
        finished = {key: name for key, name in listed.items() if (out / str(name)).is_file()}
    else:
        finished = {}
    return {
        "format": projfile.FORMAT,
        "format_version": projfile.FORMAT_VERSION,
        "model": config.model_name(),
        "model_card": card,
        "options": options,
        "layers": layers,
        "finished": finished,
        "complete": False,
        "versions": _versions(),
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def project_to_dir(config: ProjectConfig) -> Path:
    """Run a projection into ``config.out``: a Parquet file per layer and ``manifest.json``.

    Layers already finished in ``config.out`` by an earlier run with the same model and options
    are skipped. Read the result with :func:`~vocablens.project.files.read_projections`.

    Returns:
        The output folder.

    Raises:
        InputError: bad options, or ``out`` holds a run with other options.
        ModelLoadError, UnsupportedModelError: the model cannot be used.
    """
    config.check()  # before loading the model: a refused run costs a second, writes nothing
    what = parse_what(config.what)
    lm = load_model(config.model, device=config.device, dtype=resolve_dtype(config.dtype))
    layers = layer_list(config.layers, lm.view.n_layers)
    out = Path(config.out)
    manifest = _start_manifest(config, lm.view.describe(), layers)
    with torch.inference_mode():
        projector = Projector(
            lm,
            config.k,
            tokens=config.tokens,
            src_tokens=config.src_tokens,
            final_norm=config.final_norm,
            block_mb=config.block_mb,
            hub_k=config.hub_k,
        )
        projectors = [
            projector.with_readout(name, config.mask_untrained)
            for name in parse_readouts(config.readouts)
        ]
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        _run(config, projectors, out, manifest, layers, what)
    except BaseException:
        if created and not manifest["finished"]:  # nothing finished: leave no folder behind
            shutil.rmtree(out, ignore_errors=True)
        raise
    return out


def _run(config, projectors, out: Path, manifest: dict, layers: list[int], what) -> None:
    """Project the layers not finished yet, writing each layer's file and the manifest."""
    for stale in out.glob(".layer_*.parquet.*.tmp"):  # left by a killed run
        stale.unlink(missing_ok=True)
    todo = [layer for layer in layers if str(layer) not in manifest["finished"]]
    with torch.inference_mode():
        for layer in tqdm(
            todo, desc=f"project {','.join(what)}", unit="layer", disable=not config.progress
        ):
            tables = layer_tables(projectors, layer, what)
            frame = projectors[0].result(tables).to_pandas()
            name = projfile.layer_file(layer)
            projfile.write_table(frame, out / name)
            manifest["finished"][str(layer)] = name
            projfile.write_manifest(out, manifest)
    manifest["complete"] = all(str(layer) in manifest["finished"] for layer in layers)
    projfile.write_manifest(out, manifest)
