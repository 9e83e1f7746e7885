"""Corpus runs: what makes each FFN neuron fire (top-activating contexts, statistics).

``activations_to_dir(ActivationsConfig(...))`` streams a corpus through a model and writes, per
neuron and sign, the top-n activating contexts and per-neuron statistics as Parquet with a
manifest (:mod:`vocablens.activations.files`); :mod:`vocablens.activations.agreement` compares
the contexts with the value vectors' top tokens (Geva et al. 2020).
"""
