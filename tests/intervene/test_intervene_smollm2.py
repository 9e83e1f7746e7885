"""Interventions, tracing and task sets on the real SmolLM2 (slow)."""

from __future__ import annotations

import pytest
import torch

from vocablens.intervene.circuit import _Evaluator
from vocablens.intervene.effect import lens_effect
from vocablens.intervene.interventions import ablate
from vocablens.intervene.tasks import make_task
from vocablens.intervene.tracing import trace
from vocablens.model.sublayers import sublayer

pytestmark = pytest.mark.slow


def test_zeroed_neuron_equals_zeroed_weights_and_moves_the_lens(smollm2):
    ids = torch.tensor([smollm2.tokenizer("The capital of France is")["input_ids"]])
    with torch.no_grad(), ablate(smollm2, "20.100,25.h3"):
        hooked = smollm2.model(input_ids=ids).logits
    down = sublayer(smollm2.view, 20, "down")
    o_proj = sublayer(smollm2.view, 25, "o_proj")
    d = smollm2.view.d_head
    saved = down.weight[:, 100].clone(), o_proj.weight[:, 3 * d : 4 * d].clone()
    try:
        with torch.no_grad():
            down.weight[:, 100] = 0
            o_proj.weight[:, 3 * d : 4 * d] = 0
            edited = smollm2.model(input_ids=ids).logits
    finally:
        with torch.no_grad():
            down.weight[:, 100], o_proj.weight[:, 3 * d : 4 * d] = saved
    torch.testing.assert_close(hooked, edited, rtol=1e-5, atol=1e-5)
    effect = lens_effect(smollm2, "The capital of France is", ablate(smollm2, "29.mlp"))
    assert effect.kl[0, :30].max() < 1e-6 and effect.kl[0, 30] > 0


def test_trace_known_fact(smollm2):
    prompt, subject = "The Eiffel Tower is located in the city of", "The Eiffel Tower"
    result = trace(smollm2, prompt, subject, seeds=(0,), kinds=("resid",),
                   positions="summary")  # fmt: skip
    assert result.target == " Paris" and result.p_clean > 0.5 and result.p_corrupt < 0.2
    assert result.scores[0, 29, -1] == pytest.approx(result.p_clean, abs=1e-4)
    # ROME's pattern at the last token: early states there carry nothing of the subject yet
    assert abs(result.indirect[0, 0, -1]) < 0.05 and result.indirect[0, 29, -1] > 0.4


def test_tasks_as_measured(smollm2):
    accuracy = {}
    for name in ("greater-than", "ioi", "colored-objects"):
        task = make_task(name, smollm2.tokenizer, n=8)
        assert len({len(i) for i in task.ids}) == 1
        accuracy[name] = float(
            task.correct(_Evaluator(smollm2, task, "zero", []).logits([])).float().mean()
        )
    assert accuracy["greater-than"] > 0.9 and accuracy["ioi"] > 0.9
    assert accuracy["colored-objects"] < 0.7  # close to chance (1/3): SmolLM2 cannot do it
