"""The explain view under the intervene package's context managers: ablated parts give 0, sums hold."""

from __future__ import annotations

import numpy as np
import pytest

from vocablens import load_model
from vocablens.explain import explain
from vocablens.intervene.interventions import ablate, scale

from tiny_models import tiny_model

PROMPT = [3, 5, 7, 11, 13, 2, 9, 4]
TOL = 1e-4


@pytest.fixture(scope="module", params=["llama", "gpt2", "gemma2"])
def lm(request):
    model, _ = tiny_model(request.param, seed=0)
    return load_model(model)


def test_ablated_head_and_neuron_contribute_nothing(lm):
    last = lm.view.n_layers - 1
    before = explain(lm, PROMPT, 4)
    neuron = int(np.argmax(np.abs(before.layers[last].neurons)))
    with ablate(lm, f"{last}.h0,{last}.{neuron}"):
        after = explain(lm, PROMPT, 4)
    assert before.layers[last].heads[0] != 0.0 and after.layers[last].heads[0] == 0.0
    assert before.layers[last].neurons[neuron] != 0.0 and after.layers[last].neurons[neuron] == 0.0
    assert abs(after.total - after.residual_logit) < TOL
    assert abs(explain(lm, PROMPT, 4).total - before.total) < 1e-6  # hooks gone on exit


def test_scaled_neuron_scales_its_coefficient(lm):
    last = lm.view.n_layers - 1
    before = explain(lm, PROMPT, 4)
    neuron = int(np.argmax(np.abs(before.layers[last].neurons)))
    with scale(lm, f"{last}.{neuron}", 3.0):
        after = explain(lm, PROMPT, 4)
    m_before = before.layers[last].coefficients[neuron]
    assert abs(after.layers[last].coefficients[neuron] - 3.0 * m_before) < 1e-5 * max(
        1, abs(m_before)
    )
    assert abs(after.total - after.residual_logit) < TOL
