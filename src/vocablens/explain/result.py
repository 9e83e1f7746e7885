"""What builds one prediction: :class:`Explanation`, the direct logit attribution of a position.

Every number is a contribution to the *readout*: the logit of the target token, or with a
contrast token the logit difference ``logit(target) - logit(contrast)``, each component's output
read through the norms between it and the logits with their scales frozen at the values they
took at this position. The contributions add up exactly (up to float rounding) to
:attr:`Explanation.residual_logit`; the model's logit adds the final norm's bias and the
unembedding bias (:attr:`Explanation.logit`), then the soft-cap where the model has one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vocablens.explain.geva import GevaLayer

#: The component names of :meth:`Explanation.to_pandas` (``component`` column).
COMPONENTS = ("token_embed", "pos_embed", "head", "attn_bias", "neuron", "mlp_bias")
#: Columns of :meth:`Explanation.to_pandas`.
COLUMNS = ("component", "layer", "expert", "index", "contribution", "coefficient", "label",
           "label_kind")  # fmt: skip


@dataclass
class LayerContributions:
    """One block's direct contributions to the readout.

    Attributes:
        layer: the block.
        heads: ``(n_heads,)`` each attention head's output through its slice of ``W_O``.
        attn_bias: the attention output bias (with the bias of a norm after the attention).
        neurons: ``(d_mlp,)``, or ``(n_experts, d_mlp)`` for a mixture-of-experts layer: each
            neuron's sub-update ``m_i * v_i``.
        coefficients: the same shape: each neuron's coefficient ``m_i`` (the down-projection
            input; for MoE weighted by the routing, zero for experts not routed to).
        mlp_bias: the MLP output bias (with the bias of a norm after the MLP).
        attn_norm_scale: the frozen scale of the norm after the attention (Gemma-2/3, OLMo-2),
            else None.
        mlp_norm_scale: the same for the norm after the MLP.
    """

    layer: int
    heads: np.ndarray
    attn_bias: float
    neurons: np.ndarray
    coefficients: np.ndarray
    mlp_bias: float
    attn_norm_scale: float | None = None
    mlp_norm_scale: float | None = None

    @property
    def moe(self) -> bool:
        """Whether the MLP is a mixture of experts (``neurons`` has an expert axis)."""
        return self.neurons.ndim == 2

    @property
    def attn(self) -> float:
        """The attention block's total: heads and bias."""
        return float(self.heads.sum() + self.attn_bias)

    @property
    def mlp(self) -> float:
        """The MLP's total: neurons and bias."""
        return float(self.neurons.sum() + self.mlp_bias)

    @property
    def total(self) -> float:
        """The block's total direct contribution."""
        return self.attn + self.mlp

    def neuron_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """``(expert, index)`` of every neuron in ``neurons.ravel()`` order (expert -1: dense)."""
        if not self.moe:
            n = self.neurons.shape[0]
            return np.full(n, -1), np.arange(n)
        n_experts, d_mlp = self.neurons.shape
        return np.repeat(np.arange(n_experts), d_mlp), np.tile(np.arange(d_mlp), n_experts)


@dataclass
class Explanation:
    """The direct logit attribution of one position of one prompt.

    Attributes:
        model: the model's name.
        text: the prompt.
        token_ids: the prompt's token ids.
        tokens: their texts (:func:`vocablens.tokens.token_strings`).
        position: the position explained, ``0..len(token_ids)-1``.
        target_id: the token explained (by default the model's prediction).
        target: its text.
        contrast_id: a second token (the readout is then the logit difference), or None.
        contrast: its text, or None.
        predicted_id: the model's top-1 token at the position.
        predicted: its text.
        token_embed: the token embedding's contribution (Gemma's embedding scale included).
        pos_embed: the absolute positional embedding's contribution (GPT-2, OPT), else None.
        layers: one :class:`LayerContributions` per block, in order.
        final_norm_scale: the final norm's scale at the position (``1/std`` for LayerNorm,
            ``1/rms`` for RMSNorm), frozen to make the final norm linear.
        residual_logit: the final residual stream read through the frozen final norm (without
            its bias) and ``W_U``: what the contributions add up to.
        norm_bias: the final norm's bias read through ``W_U`` (0 for RMSNorm).
        unembed_bias: the unembedding bias (0 when the model has none).
        softcap: the final logit soft-cap (Gemma-2/3), else None.
        capped_logit: the readout after the soft-cap (the logit itself without one).
        model_logit: the readout taken from the model's own output logits (a check).
        geva: Geva et al. 2022's view per block (:class:`~vocablens.explain.geva.GevaLayer`).
        labels: ``(layer, expert, index) -> (label, label_kind)`` of neurons with a label on the
            side their sub-update writes (the sign of the coefficient).
    """

    model: str
    text: str
    token_ids: list[int]
    tokens: list[str]
    position: int
    target_id: int
    target: str
    contrast_id: int | None
    contrast: str | None
    predicted_id: int
    predicted: str
    token_embed: float
    pos_embed: float | None
    layers: list[LayerContributions]
    final_norm_scale: float
    residual_logit: float
    norm_bias: float
    unembed_bias: float
    softcap: float | None
    capped_logit: float
    model_logit: float
    geva: list[GevaLayer] = field(default_factory=list)
    labels: dict[tuple[int, int, int], tuple[str, str]] = field(default_factory=dict)

    # ----- sums ------------------------------------------------------------------------------
    @property
    def embeddings(self) -> float:
        """Token and positional embeddings together."""
        return self.token_embed + (self.pos_embed or 0.0)

    @property
    def total(self) -> float:
        """The sum of every contribution (equals :attr:`residual_logit` up to rounding)."""
        return self.embeddings + sum(layer.total for layer in self.layers)

    @property
    def error(self) -> float:
        """``residual_logit - total``: what the components leave unexplained (~0)."""
        return self.residual_logit - self.total

    @property
    def logit(self) -> float:
        """The readout before the soft-cap: ``residual_logit + norm_bias + unembed_bias``."""
        return self.residual_logit + self.norm_bias + self.unembed_bias

    @property
    def readout(self) -> str:
        """What is explained, in words: ``logit(' Paris')`` or ``logit(' Paris') - logit(' Rome')``."""
        text = f"logit({self.target!r})"
        return text if self.contrast is None else f"{text} - logit({self.contrast!r})"

    # ----- tables ----------------------------------------------------------------------------
    def to_pandas(self) -> pd.DataFrame:
        """Every contribution, one row each: columns :data:`COLUMNS`.

        ``component`` is one of :data:`COMPONENTS`; ``layer`` is -1 for the embeddings;
        ``expert`` -1 outside mixture-of-experts layers; ``index`` the head or neuron (-1 for
        embeddings and biases); ``coefficient`` the neuron's ``m_i`` (NaN for other rows);
        ``label`` / ``label_kind`` the neuron's annotation (empty when none).
        """
        parts = [_rows("token_embed", -1, [self.token_embed])]
        if self.pos_embed is not None:
            parts.append(_rows("pos_embed", -1, [self.pos_embed]))
        for lay in self.layers:
            parts.append(_rows("head", lay.layer, lay.heads, index=np.arange(len(lay.heads))))
            parts.append(_rows("attn_bias", lay.layer, [lay.attn_bias]))
            expert, index = lay.neuron_keys()
            parts.append(_rows("neuron", lay.layer, lay.neurons.ravel(), expert=expert,
                               index=index, coefficient=lay.coefficients.ravel()))  # fmt: skip
            parts.append(_rows("mlp_bias", lay.layer, [lay.mlp_bias]))
        frame = pd.concat(parts, ignore_index=True)
        keys = zip(frame["layer"], frame["expert"], frame["index"], strict=True)
        found = [self.labels.get(key) if c == "neuron" else None
                 for key, c in zip(keys, frame["component"], strict=True)]  # fmt: skip
        frame["label"] = [f[0] if f else "" for f in found]
        frame["label_kind"] = [f[1] if f else "" for f in found]
        return frame[list(COLUMNS)]

    def top(
        self, k: int = 10, *, layer: int | None = None, component: str | None = None,
        by: str = "abs", table: pd.DataFrame | None = None,
    ) -> pd.DataFrame:  # fmt: skip
        """The ``k`` largest contributions (rows of :meth:`to_pandas`).

        Args:
            k: how many.
            layer: only this block (None: every block and the embeddings).
            component: only this component (``"head"``, ``"neuron"``, ...).
            by: ``"abs"`` (largest magnitude), ``"positive"`` (most for the readout) or
                ``"negative"`` (most against it).
            table: :meth:`to_pandas`'s table when the caller already has it (asking for many
                tops, build it once: it has a row per neuron); None: built here.
        """
        frame = self.to_pandas() if table is None else table
        if layer is not None:
            frame = frame[frame["layer"] == layer]
        if component is not None:
            frame = frame[frame["component"] == component]
        order = {"abs": frame["contribution"].abs(), "positive": frame["contribution"],
                 "negative": -frame["contribution"]}[by]  # fmt: skip
        return frame.loc[order.sort_values(ascending=False, kind="stable").index[:k]]

    def top_per_layer(self, k: int = 5, by: str = "abs") -> dict[int, pd.DataFrame]:
        """The top ``k`` contributors of each block (heads, neurons and biases together)."""
        table = self.to_pandas()
        return {lay.layer: self.top(k, layer=lay.layer, by=by, table=table) for lay in self.layers}

    def to_dict(self, top_k: int = 10) -> dict:
        """A JSON-ready summary: the scalars, per block its totals, every head, the top neurons.

        Args:
            top_k: neurons kept per block (by magnitude) and contributors kept overall.
        """
        layers = []
        geva_of = {g.layer: g for g in self.geva}
        table = self.to_pandas()
        for lay in self.layers:
            geva = geva_of.get(lay.layer)
            top = self.top(top_k, layer=lay.layer, component="neuron", table=table)
            layers.append({
                "layer": lay.layer, "attn": lay.attn, "mlp": lay.mlp,
                "heads": lay.heads.tolist(), "attn_bias": lay.attn_bias, "mlp_bias": lay.mlp_bias,
                "attn_norm_scale": lay.attn_norm_scale, "mlp_norm_scale": lay.mlp_norm_scale,
                "top_neurons": _records(top),
                "geva": None if geva is None else geva.to_dict(),
            })  # fmt: skip
        return {
            "model": self.model, "text": self.text, "token_ids": self.token_ids,
            "tokens": self.tokens, "position": self.position, "target_id": self.target_id,
            "target": self.target, "contrast_id": self.contrast_id, "contrast": self.contrast,
            "predicted_id": self.predicted_id, "predicted": self.predicted,
            "readout": self.readout,
            "token_embed": self.token_embed, "pos_embed": self.pos_embed,
            "final_norm_scale": self.final_norm_scale, "residual_logit": self.residual_logit,
            "total": self.total, "error": self.error, "norm_bias": self.norm_bias,
            "unembed_bias": self.unembed_bias, "logit": self.logit, "softcap": self.softcap,
            "capped_logit": self.capped_logit, "model_logit": self.model_logit,
            "layers": layers, "top": _records(self.top(top_k, table=table)),
        }  # fmt: skip

    def to_json(self, top_k: int = 10) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(top_k), ensure_ascii=False, indent=1)


def _rows(component, layer, values, *, expert=None, index=None, coefficient=None) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({
        "component": component, "layer": np.full(n, layer),
        "expert": np.full(n, -1) if expert is None else expert,
        "index": np.full(n, -1) if index is None else index,
        "contribution": np.asarray(values, dtype=np.float64),
        "coefficient": np.full(n, np.nan) if coefficient is None else coefficient,
    })  # fmt: skip


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.itertuples(index=False):
        record = {"component": row.component, "layer": int(row.layer), "expert": int(row.expert),
                  "index": int(row.index), "contribution": float(row.contribution)}  # fmt: skip
        if row.component == "neuron":
            record.update(coefficient=float(row.coefficient), label=row.label,
                          label_kind=row.label_kind)  # fmt: skip
        out.append(record)
    return out
