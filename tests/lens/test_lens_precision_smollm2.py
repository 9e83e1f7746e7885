"""Every lens statistic on a 200-token real prompt against a float64 reference (SmolLM2, slow).

The reference does not use the lens's code path: transformers' own hidden states, cast to
float64, go through a float64 copy of the final norm and the unembedding, then
``log_softmax`` in float64.
"""

from __future__ import annotations

import copy

import pytest
import torch

from vocablens.lens.logit_lens import Lens

pytestmark = pytest.mark.slow

TEXT = (
    "The old lighthouse stood at the edge of the cliff for more than two hundred years. Every "
    "night its keeper climbed the narrow stairs, trimmed the wick and wound the clockwork that "
    "turned the great lens, so that ships far out at sea could see the beam sweep across the "
    "water. In winter the storms came in from the north, and the waves broke so high against "
    "the rocks that spray reached the lantern room. The keeper kept a log of every vessel that "
    "passed: fishing boats from the village, cargo ships bound for the southern ports, and once "
    "a tall sailing ship with torn canvas that limped into the harbour after three days adrift. "
    "When electricity finally reached the headland, the clockwork was replaced by a motor and "
    "the oil lamp by a bulb, and a few years later the keeper was no longer needed at all. The "
    "village bought the building and turned it into a small museum, where children now read "
    "the old logbooks and learn how the light was kept burning through the longest nights."
)


def _float64_reference(lm, ids: list[int]):
    """Log-probabilities ``(L+1, pos, vocab)`` of every resid layer, in float64."""
    with torch.inference_mode():
        hidden = lm.model(torch.tensor([ids]), output_hidden_states=True).hidden_states
        norm = copy.deepcopy(lm.view.final_norm).double()
        W_U = lm.view.W_U.double()  # (vocab, d_model)
        states = [norm(h[0].double()) for h in hidden[:-1]]  # ℓ = 0..L-1, before the norm
        states.append(hidden[-1][0].double())  # ℓ = L: transformers already applied the norm
        logits = torch.stack(states) @ W_U.T  # (L+1, pos, vocab)
        return logits, torch.log_softmax(logits, dim=-1)


def test_every_statistic_matches_float64(smollm2):
    ids = smollm2.tokenizer(TEXT)["input_ids"]
    assert 190 <= len(ids) <= 230
    result = Lens(smollm2)(ids, k=5)
    logits, logp = _float64_reference(smollm2, ids)
    probs = logp.exp()
    entropy = -(probs * logp).sum(-1)  # (L+1, pos)
    kl = (probs[-1] * (logp[-1] - logp)).sum(-1)  # (L+1, pos)
    nxt = torch.tensor(ids[1:])
    ce = -logp[:, torch.arange(len(ids) - 1), nxt]  # (L+1, pos-1)

    def got(name):
        return torch.from_numpy(getattr(result, name)[0]).double()

    assert ((got("kl_to_final") - kl).abs() <= 1e-3 + 1e-3 * kl).all()
    assert got("kl_to_final")[-1].abs().max() <= 2e-4
    assert ((got("entropy") - entropy).abs() <= 1e-3 + 1e-3 * entropy).all()
    assert ((got("next_token_ce")[:, :-1] - ce).abs() <= 1e-3 + 1e-3 * ce).all()
    target_p = probs[:, torch.arange(len(ids) - 1), nxt]
    assert ((got("target_prob")[:, :-1] - target_p).abs() <= 1e-4 + 1e-3 * target_p).all()
    top_p, top_i = probs.topk(5, dim=-1)  # (L+1, pos, 5)
    assert ((got("top_probs") - top_p).abs() <= 1e-4 + 1e-3 * top_p).all()
    clear = logits.topk(2, dim=-1).values.diff(dim=-1).abs()[..., 0] > 1e-3  # (L+1, pos)
    assert clear.float().mean() > 0.95
    top1 = torch.from_numpy(result.top_ids[0, :, :, 0])
    assert torch.equal(top1[clear], top_i[..., 0][clear])
