"""Parameter projections: FFN values and keys, attention OV and QK circuits, any vector.

* :mod:`~vocablens.project.projector`: :func:`project`, :func:`project_vectors`, ``Projector``.
* :mod:`~vocablens.project.topk`: streamed top-k engines (never a vocab-sized matrix of all vectors).
* :mod:`~vocablens.project.circuits`: OV / QK circuits of a head as low-rank factor pairs.
* :mod:`~vocablens.project.tokensets`: token sets (all, whole words, ids) and token names.
* :mod:`~vocablens.project.result`: typed results; :mod:`~vocablens.project.files`: the Parquet
  format; :mod:`~vocablens.project.run`: resumable runs into a folder.
"""
