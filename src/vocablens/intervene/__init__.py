"""Interventions and circuits: change a part of the model, see the vocabulary move.

* :mod:`~vocablens.intervene.nodes`: nodes (neurons, heads, blocks) and the one spec parser.
* :mod:`~vocablens.intervene.edits`: the hook engine (edits that always remove their hooks).
* :mod:`~vocablens.intervene.ops`: what an edit does (zero, scale, set, add, patch, record).
* :mod:`~vocablens.intervene.interventions`: ``ablate`` / ``scale`` / ``boost`` / ``replace`` /
  ``steer`` as re-usable context managers; zero, mean and resample ablation.
* :mod:`~vocablens.intervene.effect`: what an intervention does to the logit lens.
* :mod:`~vocablens.intervene.tracing`: causal tracing (Meng et al. 2022).
* :mod:`~vocablens.intervene.tasks`, :mod:`~vocablens.intervene.circuit`,
  :mod:`~vocablens.intervene.overlap`: task sets, node-level circuit search, circuit overlap.
"""
