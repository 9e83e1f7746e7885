"""A readable text table of an :class:`~vocablens.explain.result.Explanation` (for the terminal)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vocablens.explain.result import Explanation
from vocablens.tokens import shown

#: What the sum check calls close enough (absolute, in logits).
SUM_TOLERANCE = 1e-4


def component_name(row: Any) -> str:
    """A short name of a contribution row: ``H3``, ``N1234``, ``E2/N5``, ``b_O``, ``b_out``, ..."""
    component = row.component
    expert, index = int(row.expert), int(row.index)
    if component == "head":
        return f"H{index}"
    if component == "neuron":
        return f"N{index}" if expert < 0 else f"E{expert}/N{index}"
    return {"attn_bias": "b_O", "mlp_bias": "b_out", "token_embed": "token",
            "pos_embed": "position"}[component]  # fmt: skip


def _item(row: Any, labels: bool = True) -> str:
    label = getattr(row, "label", "") if labels else ""
    text = f"{component_name(row)} {row.contribution:+.3f}"
    return f"{text} [{label}]" if label else text


def sum_check(e: Explanation) -> str:
    """One line: the sum of the contributions against the residual's logit."""
    verdict = "ok" if abs(e.error) <= SUM_TOLERANCE else "MISMATCH (a hook changed the stream?)"
    return (f"sum of contributions {e.total:+.5f} = residual logit {e.residual_logit:+.5f} "
            f"(difference {e.error:.1e}: {verdict})")  # fmt: skip


def render(e: Explanation, top_k: int = 5, layers: Sequence[int] | None = None) -> str:
    """The table: header, per layer its totals and top contributors, the check, the Geva view.

    Args:
        e: the explanation.
        top_k: contributors shown per layer and overall.
        layers: the blocks to show (None: all); the sums always cover every block.
    """
    token = shown(e.tokens[e.position])
    readout = f"logit({shown(e.target)})"
    if e.contrast is not None:
        readout += f" - logit({shown(e.contrast)})"
    lines = [
        f"prompt {shown(e.text)!r} ({len(e.tokens)} tokens), position {e.position} ({token})",
        f"explaining {readout}; the model predicts {shown(e.predicted)}",
        f"final-norm scale {e.final_norm_scale:.4g} (frozen at this position)",
        "",
        f"{'layer':>5}  {'attn':>8}  {'mlp':>8}  {'total':>8}  top contributors",
    ]
    emb = f"token {e.token_embed:+.3f}"
    if e.pos_embed is not None:
        emb += f", position {e.pos_embed:+.3f}"
    lines.append(f"{'emb':>5}  {'':>8}  {'':>8}  {e.embeddings:>+8.3f}  {emb}")
    chosen = None if layers is None else set(layers)
    table = e.to_pandas()  # once: a row per neuron of the model
    for lay in e.layers:
        if chosen is not None and lay.layer not in chosen:
            continue
        top = e.top(top_k, layer=lay.layer, table=table)
        items = ", ".join(_item(row) for row in top.itertuples(index=False))
        lines.append(f"{lay.layer:>5}  {lay.attn:>+8.3f}  {lay.mlp:>+8.3f}  {lay.total:>+8.3f}  "
                     f"{items}")  # fmt: skip
    lines += ["", sum_check(e)]
    tail = f"+ final-norm bias {e.norm_bias:+.4f} + unembedding bias {e.unembed_bias:+.4f}"
    tail += f" = logit {e.logit:+.4f}"
    if e.softcap is not None:
        tail += f"; soft-capped ({e.softcap:g}) {e.capped_logit:+.4f}"
    lines.append(f"{tail}; the model's own: {e.model_logit:+.4f}")
    lines += ["", f"top {top_k} contributors overall:"]
    for row in e.top(top_k, table=table).itertuples(index=False):
        where = "emb" if row.layer < 0 else f"layer {row.layer}"
        lines.append(f"  {where:>9}  {_item(row)}")
    if e.geva:
        lines += ["", _geva_header(e)]
        for g in e.geva:
            if chosen is not None and g.layer not in chosen:
                continue
            counts = "  ".join(f"{k:>4}" if k >= 0 else "   -" for k in g.needed.values())
            subs = ", ".join(f"{'N' if s.expert < 0 else f'E{s.expert}/N'}{s.index} "
                             f"{s.contribution:+.3f} (rank {s.rank})" for s in g.top[:3])  # fmt: skip
            lines.append(f"{g.layer:>5}  {g.net:>+8.3f}  {counts}  {subs}")
    return "\n".join(lines)


def _geva_header(e: Explanation) -> str:
    fractions = "  ".join(f"{f * 100:>3.0f}%" for f in e.geva[0].needed)
    return ("Geva et al. 2022: sub-updates needed for a share of each FFN's shift toward the "
            f"token; top sub-updates with the token's rank in their value vector\n"
            f"{'layer':>5}  {'shift':>8}  {fractions}  top sub-updates")  # fmt: skip
