"""Interventions against float64 weight edits and brute-force references on tiny models."""

from __future__ import annotations

import copy

import pytest
import torch

from vocablens import InputError, load_model
from vocablens.intervene.effect import lens_effect
from vocablens.intervene.interventions import ablate, boost, record, replace, scale, steer
from vocablens.intervene.nodes import parse_boosts, parse_nodes
from vocablens.lens.logit_lens import Lens
from vocablens.model.sublayers import sublayer

from tiny_models import FAMILIES, MOE_FAMILIES, tiny_model

DENSE = [f for f in FAMILIES if f not in MOE_FAMILIES]
IDS = torch.tensor([[3, 14, 15, 9, 26, 5, 35], [8, 9, 7, 9, 3, 2, 38]])


def _lm(family: str, seed: int = 0):
    model, _ = tiny_model(family, seed)
    return load_model(model.double())


def _logits(lm, ids=IDS) -> torch.Tensor:
    with torch.no_grad():
        return lm.model(input_ids=ids).logits


def _columns(module, cols: slice) -> torch.Tensor:
    """The weight entries that read input columns ``cols`` (Linear: (out, in); Conv1D: (in, out))."""
    if type(module).__name__ == "Conv1D":
        return module.weight[cols]
    return module.weight[:, cols]


def _n_hooks(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.mark.parametrize("family", [*DENSE, "qwen3-moe"])
def test_zero_neuron_equals_zero_value_row(family):
    lm = _lm(family)
    layer = 0 if family == "qwen3-moe" else 1  # qwen3-moe: layer 0 is dense
    with ablate(lm, [f"{layer}.5", f"{layer}.17"]):
        hooked = _logits(lm)
    edited = copy.deepcopy(lm.model)
    elm = load_model(edited)
    with torch.no_grad():
        down = sublayer(elm.view, layer, "down")
        for i in (5, 17):
            _columns(down, slice(i, i + 1)).zero_()
    torch.testing.assert_close(hooked, _logits(elm), rtol=0, atol=1e-10)
    assert not torch.allclose(hooked, _logits(lm))


@pytest.mark.parametrize("family", FAMILIES)
def test_head_ablation_equals_zero_W_O_slice(family):
    lm = _lm(family)
    d_head = lm.view.d_head
    with scale(lm, "0.h1,1.h3", 0.0):
        hooked = _logits(lm)
    elm = load_model(copy.deepcopy(lm.model))
    with torch.no_grad():
        for layer, head in ((0, 1), (1, 3)):
            cols = slice(head * d_head, (head + 1) * d_head)
            _columns(sublayer(elm.view, layer, "o_proj"), cols).zero_()
    torch.testing.assert_close(hooked, _logits(elm), rtol=0, atol=1e-10)


@pytest.mark.parametrize("family", ["gpt2", "llama", "opt"])
def test_scaled_neuron_equals_scaled_row_and_nesting_composes(family):
    lm = _lm(family)
    elm = load_model(copy.deepcopy(lm.model))
    with torch.no_grad():
        _columns(sublayer(elm.view, 1, "down"), slice(7, 8)).mul_(6.0)
        _columns(sublayer(elm.view, 0, "o_proj"), slice(0, lm.view.d_head)).zero_()
    with scale(lm, "1.7", 2.0), scale(lm, "1.7", 3.0):  # noqa: SIM117 (nesting is the test)
        with ablate(lm, "0.h0"):
            nested = _logits(lm)
    torch.testing.assert_close(nested, _logits(elm), rtol=0, atol=1e-10)
    with boost(lm, "1.7=6") + scale(lm, "0.h0", 0.0):
        added = _logits(lm)
    torch.testing.assert_close(added, nested, rtol=0, atol=1e-10)


def test_hooks_are_removed_after_an_exception():
    lm = _lm("llama")
    before, clean = _n_hooks(lm.model), _logits(lm)
    with (
        pytest.raises(RuntimeError, match="boom"),
        ablate(lm, "0.3,1.h2,1.mlp"),
        steer(lm, torch.ones(32), 1),
    ):
        assert _n_hooks(lm.model) > before
        raise RuntimeError("boom")
    assert _n_hooks(lm.model) == before
    torch.testing.assert_close(_logits(lm), clean, rtol=0, atol=0)
    # a per-position value of the wrong length fails inside a hook: the hooks go all the same
    with (
        pytest.raises(InputError, match="positions"),
        replace(lm, "1.h2", torch.zeros(3, lm.view.d_head)),
    ):
        _logits(lm)
    assert _n_hooks(lm.model) == before


def test_blocks_and_residual_sites_against_weight_edits():
    lm = _lm("gpt2")
    v = torch.randn(32, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    elm = load_model(copy.deepcopy(lm.model))
    with torch.no_grad():
        blocks = elm.model.transformer.h
        blocks[1].mlp.c_proj.weight.zero_()
        blocks[1].mlp.c_proj.bias.zero_()
        blocks[0].attn.c_proj.bias.add_(v)  # resid_mid@0 += v is attn_out[0] += v
    with ablate(lm, "1.mlp"), steer(lm, v, 0, "resid_mid"):
        hooked = _logits(lm)
    torch.testing.assert_close(hooked, _logits(elm), rtol=0, atol=1e-10)


def test_resid_steering_at_zero_equals_shifted_embeddings():
    lm = _lm("llama")
    v = torch.randn(32, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    elm = load_model(copy.deepcopy(lm.model))
    with torch.no_grad():
        elm.view.W_E.add_(v)
    with steer(lm, v, 0):
        hooked = _logits(lm)
    torch.testing.assert_close(hooked, _logits(elm), rtol=0, atol=1e-10)
    # the lens sees the steered residual: resid@2 += v moves the final read-out by W_U(norm(.+v))
    with steer(lm, v, 2):
        lensed = Lens(lm)([[3, 4, 5]], k=3, stats=("top",))
    plain = Lens(lm)([[3, 4, 5]], k=3, stats=("top",))
    assert (lensed.top_probs[0, :2] == plain.top_probs[0, :2]).all()  # layers 0, 1 untouched
    assert (lensed.top_probs[0, 2] != plain.top_probs[0, 2]).any()


@pytest.mark.parametrize("family", ["gpt2", "opt"])
def test_mean_ablation_equals_bias_shift(family):
    lm = _lm(family)
    reference = [[1, 2, 3, 4], [5, 6, 7], [9, 8, 7, 6, 5]]
    # brute force: each reference prompt alone, the down projection's input read by a raw hook
    seen = []
    down = sublayer(lm.view, 1, "down")
    handle = down.register_forward_pre_hook(
        lambda m, a: seen.append(a[0].reshape(-1, a[0].shape[-1]))
    )
    for ids in reference:
        _logits(lm, torch.tensor([ids]))
    handle.remove()
    mean = torch.cat(seen)[:, 4].mean()
    elm = load_model(copy.deepcopy(lm.model))
    with torch.no_grad():
        edown = sublayer(elm.view, 1, "down")
        w = _columns(edown, slice(4, 5)).reshape(-1).clone()  # (d_model,) the value vector
        _columns(edown, slice(4, 5)).zero_()
        edown.bias.add_(mean * w)
    with ablate(lm, "1.4", "mean", reference):
        hooked = _logits(lm)
    torch.testing.assert_close(hooked, _logits(elm), rtol=0, atol=1e-10)


def test_resample_ablation_against_brute_force():
    lm = _lm("llama")
    reference = [[1, 2, 3, 4, 5, 6, 7], [7, 6, 5, 4, 3, 2, 1], [3, 3, 3, 3, 3, 3, 3]]
    acts, _ = record(lm, "1.h2,0.mlp", reference)
    order = torch.randperm(3, generator=torch.Generator().manual_seed(4))
    with ablate(lm, "1.h2,0.mlp", "resample", reference, seed=4):
        hooked = _logits(lm)
    for b in range(IDS.shape[0]):
        r = order[b % 3]
        with (
            replace(lm, "1.h2", acts[parse_nodes("1.h2")[0]][r]),
            replace(lm, "0.mlp", acts[parse_nodes("0.mlp")[0]][r]),
        ):
            alone = _logits(lm, IDS[b : b + 1])
        torch.testing.assert_close(hooked[b : b + 1], alone, rtol=0, atol=1e-10)
    with pytest.raises(InputError, match="one token length"):
        ablate(lm, "1.h2", "resample", [[1, 2], [3]])


def test_positions_and_generation():
    lm = _lm("llama")
    clean = _logits(lm)
    with ablate(lm, "1.mlp", positions=[-1]):
        last_only = _logits(lm)
    torch.testing.assert_close(last_only[:, :-1], clean[:, :-1], rtol=0, atol=0)
    assert not torch.allclose(last_only[:, -1], clean[:, -1])
    elm = load_model(copy.deepcopy(lm.model))
    with torch.no_grad():
        _columns(sublayer(elm.view, 0, "down"), slice(2, 3)).mul_(5.0)
    kwargs = dict(max_new_tokens=4, do_sample=False, pad_token_id=0)
    with boost(lm, "0.2=5"):
        hooked = lm.model.generate(IDS[:1], **kwargs)
    torch.testing.assert_close(hooked, elm.model.generate(IDS[:1], **kwargs))


def test_lens_effect_reports_kl_and_ranks():
    lm = _lm("llama")
    effect = lens_effect(lm, [[3, 4, 5], [6, 7, 8, 9]], ablate(lm, "1.mlp"), k=3)
    assert effect.kl.shape == (2, 3) and effect.kl[:, :2].max() < 1e-6  # resid 0, 1 untouched
    assert (effect.kl[:, 2] > 0).all()
    assert (effect.target_rank_before[:, -1] == 0).all()
    assert "zero-ablate 1.mlp" in effect.table(1)


def test_bad_nodes_one_line_errors():
    view = _lm("llama").view
    for spec, message in [("7.3", "layer 7 out of range"), ("1.64", "neuron 64 out of range"),
                          ("1.h4", "head 4 out of range"), ("1.x", "bad node"), ("", "empty")]:  # fmt: skip
        with pytest.raises(InputError, match=message) as info:
            parse_nodes(spec, view)
        assert "\n" not in str(info.value)
    assert parse_nodes("-1.h2,0.mlp", view)[0].spec == "1.h2"
    assert parse_boosts("1.3=2.5", view)[0][1] == 2.5
    with pytest.raises(InputError, match="not a number"):
        parse_boosts("1.3=big", view)
    moe = load_model(tiny_model("mixtral")[0])
    with pytest.raises(InputError, match="mixture-of-experts"):
        scale(moe, "1.3", 2.0).__enter__()


def test_cli_lens_ablate_and_boost(tmp_path):
    from click.testing import CliRunner

    from vocablens.cli import main

    from tiny_tokenizer import save_tiny, tiny_tokenizer

    folder = str(save_tiny(tiny_model("llama")[0], tiny_tokenizer(160), tmp_path / "llama"))
    runner = CliRunner()
    ok = runner.invoke(
        main, ["lens", folder, "the cat sat", "--ablate", "1.3,0.h1", "--boost", "1.mlp=2"]
    )
    assert ok.exit_code == 0, ok.output
    assert "zero-ablate 1.3" in ok.output and "scale 1.mlp x2" in ok.output and "KL" in ok.output
    for args, message in [(["--ablate", "9.3"], "layer 9 out of range"),
                          (["--ablate", "1.h7"], "head 7 out of range"),
                          (["--ablate", "1.99"], "neuron 99 out of range"),
                          (["--boost", "1.3"], "bad boost"), (["--ablate", "x"], "bad node")]:  # fmt: skip
        bad = runner.invoke(main, ["lens", folder, "the cat", *args])
        assert bad.exit_code == 2, bad.output
        assert message in bad.output and len(bad.output.strip().splitlines()) == 1
