"""Measure the typical share of each form class in a value vector's top-30, per readout.

The labeller names a form only when its share of a list is well above what a random list of
the same readout holds (:data:`vocablens.annotate.forms.FORM_BASE`): word pieces fill half
of a raw top-30 anyway, punctuation a twentieth. This script measures those shares on SmolLM2:
``--n`` value vectors drawn uniformly over layers, neurons and signs (a seed of its own, not a
judged set's), their top-``k`` tokens under the raw and the cosine readouts (untrained tokens
masked, as the projector does), and per form class the mean rank-weighted share (the weights of
:class:`~vocablens.annotate.labeler.ConceptLabeler`).

Usage: ``python benchmarks/form_base.py [--n 2000] [--seed 11]``; prints the table as Python.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
import torch

from judged_draw import readout_inputs  # benchmarks/, the script's own folder
from vocablens.annotate import ConceptLabeler
from vocablens.model.loading import load_model
from vocablens.model.untrained import untrained_tokens


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--k", type=int, default=30)
    args = parser.parse_args()

    lm = load_model("smollm2-135m")
    view = lm.view
    W_U, norms, gain, vectors = readout_inputs(lm)
    masked = untrained_tokens(view)  # (n_masked,)
    texts = [lm.tokenizer.decode([i]) for i in range(view.vocab_size)]
    labeler = ConceptLabeler().fit()
    weights = np.array(labeler.rank_weights(args.k))

    rng = np.random.default_rng(args.seed)
    layers = rng.integers(view.n_layers, size=args.n)
    neurons = rng.integers(vectors.shape[1], size=args.n)
    signs = rng.choice([1.0, -1.0], size=args.n)
    shares: dict[str, Counter[str]] = {"raw": Counter(), "cosine": Counter()}
    for layer, neuron, sign in zip(layers, neurons, signs, strict=True):
        v = vectors[layer, neuron].float() * gain * float(sign)  # (d_model,)
        raw = W_U @ v  # (vocab,)
        by = {"raw": raw.clone(), "cosine": raw / norms}  # (vocab,) each
        for readout, scores in by.items():
            scores[masked] = -torch.inf
            top = scores.topk(args.k).indices.tolist()
            mass: Counter[str] = Counter()
            for w, i in zip(weights, top, strict=True):
                for form in labeler.analyse(texts[i]).forms:
                    if not form.startswith("script:"):
                        mass[form] += float(w)
            for form, m in mass.items():
                shares[readout][form] += m / weights.sum() / args.n
    print(f"# measured by benchmarks/form_base.py --n {args.n} --seed {args.seed} --k {args.k}")
    print("FORM_BASE = {")
    for readout, counter in shares.items():
        cells = ", ".join(f'"{f}": {s:.3f}' for f, s in sorted(counter.items()) if s >= 0.0005)
        print(f'    "{readout}": {{{cells}}},')
    print("}")


if __name__ == "__main__":
    main()
