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

# The heavier entry points load on first use, so `import vocablens` stays light.
_LAZY = {
    "Lens": "vocablens.lens.logit_lens",
    "LensResult": "vocablens.lens.result",
    "logit_lens": "vocablens.lens.logit_lens",
    "project": "vocablens.lens.project",
    "project_vectors": "vocablens.lens.project",
    "read_projections": "vocablens.lens.projfile",
    "ConceptLabeler": "vocablens.annotate",
    "PolysemanticityDetector": "vocablens.annotate",
    "annotate_projections": "vocablens.annotate",
    "generate_report": "vocablens.reports",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vocablens' has no attribute {name!r}")


__all__ = [
    *_LAZY,
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
