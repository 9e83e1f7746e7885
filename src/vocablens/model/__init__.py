"""The model side: loading, the architecture view with its family table, capture hooks.

The only package that knows architectures: every other part of vocablens reads a model through
a :class:`~vocablens.model.loading.LoadedModel` and its :class:`~vocablens.model.view.ModelView`.

* :mod:`~vocablens.model.loading`: :func:`load_model` from a spec (object, folder, GGUF, alias).
* :mod:`~vocablens.model.families`: the family table (module paths, weight readers).
* :mod:`~vocablens.model.view`: :class:`ModelView`, the same face for every family.
* :mod:`~vocablens.model.weights`: per-layer attention and MLP weights in one layout.
* :mod:`~vocablens.model.hooks`: capture residual-stream states with hooks that are always removed.
* :mod:`~vocablens.model.tokenizer`: what tokenizers mark (word starts) and token sets.
"""
