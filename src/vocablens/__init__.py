"""vocablens: read transformer language models in the space of their own vocabulary."""

from vocablens.errors import (
    InputError,
    ModelLoadError,
    ResultFileError,
    UnsupportedModelError,
    VocabLensError,
)
from vocablens.lens.arch import ModelView
from vocablens.lens.loading import DEFAULT_MODEL, LoadedModel, load_model

__all__ = [
    "DEFAULT_MODEL",
    "InputError",
    "LoadedModel",
    "ModelLoadError",
    "ModelView",
    "ResultFileError",
    "UnsupportedModelError",
    "VocabLensError",
    "load_model",
]
__version__ = "0.1.0"
