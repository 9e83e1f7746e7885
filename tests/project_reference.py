"""Brute-force float64 reference for parameter projections, written from the raw module weights.

Deliberately independent of ``vocablens.model.view``: every family's weights are sliced here by
hand from the ``transformers`` modules, and every circuit is formed as a full matrix.
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor

LAYERNORM = {"gpt2", "gpt-neox", "opt", "phi", "gptj"}
GEMMA_NORM = {"gemma", "gemma2", "gemma3"}  # (1 + w) RMSNorm


def _body(model, family: str):
    return {
        "gpt2": lambda: model.transformer,
        "gptj": lambda: model.transformer,
        "gpt-neox": lambda: model.gpt_neox,
        "opt": lambda: model.model.decoder,
    }.get(family, lambda: model.model)()


def blocks(model, family: str):
    body = _body(model, family)
    return body.h if family in ("gpt2", "gptj") else body.layers


def embedding(model, family: str) -> Tensor:
    body = _body(model, family)
    name = {"gpt2": "wte", "gptj": "wte", "gpt-neox": "embed_in"}.get(family, "embed_tokens")
    return getattr(body, name).weight.detach().double()  # (vocab, d)


def unembedding(model, family: str) -> Tensor:
    head = model.embed_out if hasattr(model, "embed_out") else model.lm_head  # old gpt-neox name
    return head.weight.detach().double()  # (vocab, d)


def final_norm(model, family: str) -> tuple[Tensor, bool]:
    """(effective gain (d,), centres?) of the final norm."""
    body = _body(model, family)
    module = {
        "gpt2": "ln_f",
        "gptj": "ln_f",
        "gpt-neox": "final_layer_norm",
        "opt": "final_layer_norm",
        "phi": "final_layernorm",
    }.get(family, "norm")
    gain = getattr(body, module).weight.detach().double()
    if family in GEMMA_NORM:
        gain = 1.0 + gain
    return gain, family in LAYERNORM


def written_readout(model, family: str, final: bool = True) -> Tensor:
    """(d, vocab): scores of a written vector v are v @ this."""
    W_U = unembedding(model, family)
    if not final:
        return W_U.T
    gain, centre = final_norm(model, family)
    d = W_U.shape[1]
    M = torch.diag(gain)  # v -> v * gain
    if centre:
        M = (torch.eye(d, dtype=torch.float64) - 1.0 / d) @ M  # centre first, then gain
    return M @ W_U.T  # (d, vocab)


def mlp_vectors(model, family: str, layer: int) -> dict[str, Tensor]:
    """Kind -> (d_mlp, d) float64 rows, one per neuron."""
    block = blocks(model, family)[layer]
    w = lambda module: module.weight.detach().double()  # noqa: E731
    if family == "gpt2":  # Conv1D: weight is (in, out)
        return {"values": w(block.mlp.c_proj), "keys_in": w(block.mlp.c_fc).T}
    if family == "gpt-neox":
        return {"values": w(block.mlp.dense_4h_to_h).T, "keys_in": w(block.mlp.dense_h_to_4h)}
    if family == "opt":
        return {"values": w(block.fc2).T, "keys_in": w(block.fc1)}
    if family == "phi":
        return {"values": w(block.mlp.fc2).T, "keys_in": w(block.mlp.fc1)}
    if family == "gptj":
        return {"values": w(block.mlp.fc_out).T, "keys_in": w(block.mlp.fc_in)}
    mlp = block.mlp
    assert not hasattr(mlp, "experts"), "a mixture-of-experts layer: use mlp_experts"
    if family == "phi3":  # gate_up_proj: rows [gate (d_mlp) | up (d_mlp)]
        gate_up = w(mlp.gate_up_proj)
        d_mlp = gate_up.shape[0] // 2
        return {"values": w(mlp.down_proj).T, "keys_gate": gate_up[:d_mlp],
                "keys_up": gate_up[d_mlp:]}  # fmt: skip
    return {"values": w(mlp.down_proj).T, "keys_gate": w(mlp.gate_proj), "keys_up": w(mlp.up_proj)}


def mlp_experts(model, family: str, layer: int) -> dict[int, dict[str, Tensor]]:
    """Expert -> kind -> (d_mlp, d) float64 rows; ``{-1: mlp_vectors(...)}`` for a dense layer."""
    experts = getattr(getattr(blocks(model, family)[layer], "mlp", None), "experts", None)
    if experts is None:
        return {-1: mlp_vectors(model, family, layer)}
    gate_up = experts.gate_up_proj.detach().double()  # (E, 2 * d_mlp, d): rows [gate | up]
    down = experts.down_proj.detach().double()  # (E, d, d_mlp)
    d_mlp = down.shape[2]
    return {
        e: {"values": down[e].T, "keys_gate": gate_up[e, :d_mlp], "keys_up": gate_up[e, d_mlp:]}
        for e in range(down.shape[0])
    }


def attention_heads(model, family: str, layer: int) -> tuple[list, list, list, list]:
    """Per head lists W_Q[h] (d, dh), W_K[h], W_V[h] (per query head: GQA expanded), W_O[h] (dh, d)."""
    config = model.config
    n = config.num_attention_heads
    n_kv = getattr(config, "num_key_value_heads", None) or n
    block = blocks(model, family)[layer]
    Q, K, V, O = [], [], [], []  # noqa: E741
    if family == "gpt2":
        c_attn = block.attn.c_attn.weight.detach().double()  # (d, 3d), y = x @ W
        c_proj = block.attn.c_proj.weight.detach().double()  # (d, d)
        d = c_attn.shape[0]
        dh = d // n
        for h in range(n):
            cols = slice(h * dh, (h + 1) * dh)
            Q.append(c_attn[:, :d][:, cols])
            K.append(c_attn[:, d : 2 * d][:, cols])
            V.append(c_attn[:, 2 * d :][:, cols])
            O.append(c_proj[cols, :])
        return Q, K, V, O
    if family == "gpt-neox":
        qkv = block.attention.query_key_value.weight.detach().double()  # (n * 3 * dh, d)
        dense = block.attention.dense.weight.detach().double()  # (d, n * dh)
        dh = qkv.shape[0] // (3 * n)
        for h in range(n):
            base = h * 3 * dh
            Q.append(qkv[base : base + dh].T)
            K.append(qkv[base + dh : base + 2 * dh].T)
            V.append(qkv[base + 2 * dh : base + 3 * dh].T)
            O.append(dense[:, h * dh : (h + 1) * dh].T)
        return Q, K, V, O
    attn = block.attn if family == "gptj" else block.self_attn
    o_name = {"opt": "out_proj", "phi": "dense", "gptj": "out_proj"}.get(family, "o_proj")
    o = getattr(attn, o_name).weight.detach().double()  # (d, n * dh)
    dh = o.shape[1] // n
    if family == "phi3":  # qkv_proj: rows [q (n heads) | k (n_kv heads) | v (n_kv heads)]
        qkv = attn.qkv_proj.weight.detach().double()
        q, k, v = qkv[: n * dh], qkv[n * dh : (n + n_kv) * dh], qkv[(n + n_kv) * dh :]
    else:
        q = attn.q_proj.weight.detach().double()  # (n * dh, d)
        k = attn.k_proj.weight.detach().double()  # (n_kv * dh, d)
        v = attn.v_proj.weight.detach().double()
    group = n // n_kv
    for h in range(n):
        kv = h // group
        Q.append(q[h * dh : (h + 1) * dh].T)
        K.append(k[kv * dh : (kv + 1) * dh].T)
        V.append(v[kv * dh : (kv + 1) * dh].T)
        O.append(o[:, h * dh : (h + 1) * dh].T)
    return Q, K, V, O


def token_inputs(model, family: str) -> Tensor:
    """(vocab, d): embeddings centred (LayerNorm families) and scaled to unit RMS."""
    x = embedding(model, family)
    if family in LAYERNORM:
        x = x - x.mean(dim=1, keepdim=True)
    return x / (x.pow(2).mean(dim=1, keepdim=True) + 1e-12).sqrt()


def ov_matrix(model, family: str, layer: int, head: int, final: bool = True) -> Tensor:
    """Full (vocab_src, vocab_out) OV circuit of one head."""
    _, _, V, O = attention_heads(model, family, layer)  # noqa: E741
    x = token_inputs(model, family)
    return x @ V[head] @ O[head] @ written_readout(model, family, final)


def qk_matrix(model, family: str, layer: int, head: int) -> Tensor:
    """Full (vocab_query, vocab_key) QK circuit of one head."""
    Q, K, _, _ = attention_heads(model, family, layer)
    x = token_inputs(model, family)
    return (x @ Q[head]) @ (x @ K[head]).T


def assert_topk(got_ids, got_scores, ref_scores: Tensor, largest: bool = True, tol: float = 1e-4):
    """``got_ids`` is the top-k of ``ref_scores`` (1-D) ties aside, with matching scores in order.

    Every returned id must score within ``tol`` of the reference's k-th best or better, the ids
    must be distinct, and the returned scores must equal the reference scores of those ids.
    """
    got_ids = torch.as_tensor(got_ids).long().reshape(-1)
    got_scores = torch.as_tensor(got_scores).double().reshape(-1)
    k = got_ids.numel()
    sign = 1.0 if largest else -1.0
    ref = sign * ref_scores.double().reshape(-1)
    kth = ref.topk(k).values[-1]
    assert got_ids.unique().numel() == k, "duplicate ids in a top-k"
    scale = max(1.0, ref.abs().max().item())
    mine = ref[got_ids]
    assert (mine >= kth - tol * scale).all(), (
        f"ids {got_ids[mine < kth - tol * scale].tolist()} are not in the reference top-{k}"
    )
    torch.testing.assert_close(sign * got_scores, mine, rtol=1e-4, atol=tol * scale)
    assert (torch.diff(sign * got_scores) <= tol * scale).all(), "scores not sorted"
