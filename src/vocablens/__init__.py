"""vocablens: read transformer language models in the space of their own vocabulary.

``import vocablens`` is light: it imports neither torch nor transformers. The entry points below
load their module on first use.
"""

from vocablens.errors import (
    InputError,
    ModelLoadError,
    ResultFileError,
    UnsupportedModelError,
    VocabLensError,
)

# Entry points, loaded on first use so that `import vocablens` stays light (no torch).
_LAZY = {
    "DEFAULT_MODEL": "vocablens.model.loading",
    "LoadedModel": "vocablens.model.loading",
    "load_model": "vocablens.model.loading",
    "ModelView": "vocablens.model.view",
    "Lens": "vocablens.lens.logit_lens",
    "LensResult": "vocablens.lens.result",
    "logit_lens": "vocablens.lens.logit_lens",
    "project": "vocablens.project.projector",
    "project_vectors": "vocablens.project.projector",
    "read_projections": "vocablens.project.files",
    "ConceptLabeler": "vocablens.annotate",
    "PolysemanticityDetector": "vocablens.annotate",
    "annotate_projections": "vocablens.annotate",
    "search_concept": "vocablens.annotate.concept_search",
    "generate_report": "vocablens.reports",
}


def __getattr__(name: str):
    """Import an entry point's module on first use (PEP 562)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vocablens' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Module attributes, the lazy entry points included."""
    return sorted([*globals(), *_LAZY])


__all__ = [
    *_LAZY,
    "InputError",
    "ModelLoadError",
    "ResultFileError",
    "UnsupportedModelError",
    "VocabLensError",
]
__version__ = "0.1.0"
