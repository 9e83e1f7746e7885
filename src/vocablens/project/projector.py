"""Parameter projections: read FFN neurons, attention heads and any vector in the vocabulary.

What is projected, and through what (``R`` is the unembedding ``W_U``, restricted to the chosen
token set; with ``final_norm=True`` it first goes through the final norm's direction-preserving
part, :meth:`ModelView.norm_linear`: LayerNorm centring and the gain):

* ``values``: FFN value vectors (rows of ``W_out``), vectors *written* to the residual
  stream: ``score = norm_linear(v) @ W_U[t]``, the logit ``v`` adds to token ``t`` up to scale.
* ``keys_in`` / ``keys_gate`` / ``keys_up``: FFN key vectors (plain or gated MLPs), vectors that
  *read* the residual stream: ``score = key @ W_U[t]`` (no final norm: it does not act on them).
* ``ov``: top (source token, output token) pairs of each head's OV circuit, and ``ov_promoted``:
  the output tokens with the largest column maximum of the OV map over the source tokens, i.e.
  what the head can promote most when it attends to a single token.
* ``qk``: top (query token, key token) pairs of each head's QK circuit.
* ``vector`` (:func:`project_vectors`): any user vectors, handled like values.

In a mixture-of-experts layer, values and keys cover every expert's neurons: one table per
(kind, expert), ``expert`` = the expert, ``index`` = the neuron within it (dense layers and all
attention tables have ``expert = -1``). The router is not projected: it only picks experts.

OV and QK conventions are in :mod:`vocablens.project.circuits`. Biases, the unembedding bias and
Gemma-2's soft-cap are left out (the cap is monotonic: it does not change the ranking).
Vectors get both directions: ``sign=+1`` the ``k`` highest scores (promoted), ``sign=-1`` the
``k`` lowest (suppressed: the top-k of ``-v``); the score is negative for suppressed tokens, and
rank 0 is the most extreme. Pairs use ``sign=+1`` only.

Vector tables (values, keys, user vectors) are read through a *readout*
(:mod:`vocablens.project.readouts`): ``raw`` (the score ``v @ u_t`` above, the default),
``cosine`` or ``csls`` (hub-corrected cosine). Pair tables (``ov``, ``ov_promoted``, ``qk``) are
always raw. Under ``cosine`` and ``csls`` the model's untrained tokens
(:func:`vocablens.model.untrained.untrained_tokens`) are left out of vector tables by default;
under ``raw`` they are kept (their scores are real direct effects), unless asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from vocablens.buffers import Scratch
from vocablens.errors import InputError
from vocablens.layerspec import layer_list
from vocablens.model.loading import LoadedModel, load_model
from vocablens.project import circuits
from vocablens.project import readouts as ro
from vocablens.project.files import read_projections
from vocablens.project.fused import ffn_tables
from vocablens.project.pair_tables import PairTablesMixin
from vocablens.project.readouts import READOUTS
from vocablens.project.result import Projections, ProjectionTable
from vocablens.project.tokensets import TokenNames, resolve_tokens
from vocablens.project.topk import Readout, VectorTopK, vector_topk
from vocablens.project.vector_readouts import MATRIX as _MATRIX
from vocablens.project.vector_readouts import ReadoutMixin

__all__ = [
    "KINDS",
    "READOUTS",
    "ProjectionTable",
    "Projections",
    "Projector",
    "parse_what",
    "project",
    "project_vectors",
    "read_projections",
]

Tensor = torch.Tensor

VECTOR_KINDS = ("values", "keys_in", "keys_gate", "keys_up")
PAIR_KINDS = ("ov", "ov_promoted", "qk")
KINDS = (*VECTOR_KINDS, *PAIR_KINDS, "vector")
WHAT = ("values", "keys", "keys_in", "keys_gate", "keys_up", "ov", "qk")


def parse_what(what: str | Iterable[str]) -> tuple[str, ...]:
    """Normalise ``what`` (``"values,keys"`` or a list) to a tuple of :data:`WHAT` names."""
    items = what.split(",") if isinstance(what, str) else list(what)
    names = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    unknown = [name for name in names if name not in WHAT]
    if unknown or not names:
        raise InputError(
            f"unknown projection {unknown[0] if unknown else what!r}; choose from {', '.join(WHAT)}"
        )
    return names


class Projector(ReadoutMixin, PairTablesMixin):
    """Projects one model's parameters; keeps the prepared readouts between layers.

    Args:
        model: anything :func:`~vocablens.model.loading.load_model` accepts.
        k: top-k per vector and sign (per head for pairs).
        tokens: output-side token set (``None``/``"all"``, ``"words"``, or ids).
        src_tokens: source-side token set for ``ov`` (sources) and ``qk`` (queries).
        final_norm: read written vectors through the final norm's linear part.
        block_mb: size of the reused logits block.
        readout: how vector tables are scored: ``"raw"``, ``"cosine"`` or ``"csls"``
            (:mod:`vocablens.project.readouts`).
        hub_k: ``K`` of the CSLS hub statistic (each token's ``K`` nearest vectors).
        mask_untrained: leave the model's untrained tokens out of vector tables; None: yes
            for cosine and csls, no for raw.
    """

    def __init__(
        self,
        model: Any,
        k: int = 30,
        *,
        tokens: Any = None,
        src_tokens: Any = None,
        final_norm: bool = True,
        block_mb: float = 192,
        readout: str = "raw",
        hub_k: int = ro.HUB_K,
        mask_untrained: bool | None = None,
    ):
        self.readout = ro.parse_readout(readout)
        self.hub_k = ro.check_hub_k(hub_k)
        self.mask_untrained = self.readout != "raw" if mask_untrained is None else mask_untrained
        self.lm: LoadedModel = load_model(model)
        self.view = self.lm.view
        self.names = TokenNames(self.lm.tokenizer)
        self.final_norm = final_norm
        self.block_mb = block_mb
        W_U = self.view.W_U
        self.dtype = torch.float32 if W_U.device.type == "cpu" else W_U.dtype
        self.tokens = resolve_tokens(tokens, self.lm.tokenizer, self.view.vocab_size, "tokens")
        self.src_tokens = resolve_tokens(
            src_tokens, self.lm.tokenizer, self.view.vocab_size, "src_tokens"
        )
        self._cache: dict[Any, Any] = {}
        self._scratch = Scratch()  # one work block for every projection, reused
        self.k = k
        self._set_columns()

    # ----- prepared operands (built once, on first use) -------------------------------------
    def _lazy(self, name: Any, build) -> Any:
        if name not in self._cache:
            self._cache[name] = build()
        return self._cache[name]

    def _unembed_T(self) -> Tensor:
        W_U = self.view.W_U.detach()
        if len(self.tokens) < W_U.shape[0]:  # a subset: gather its rows
            W_U = W_U[self.tokens.to(W_U.device)]  # (n_tokens, d_model)
        return W_U.to(self.dtype).T  # (d_model, n_tokens)

    def write_readout(self) -> Readout:
        """Readout for written vectors: ``norm_linear(v) @ W_U[tokens].T`` as ``v @ R_T``."""

        def build() -> Readout:
            if not self.final_norm:
                return self.read_readout()
            eye = torch.eye(self.view.d_model, dtype=self.dtype, device=self.view.W_U.device)
            N = self.view.norm_linear(eye).detach()  # (d_model, d_model): row i = norm_linear(e_i)
            diag = N.diagonal()
            if torch.equal(N, torch.diag(diag)):  # RMSNorm: a gain only
                R_T = diag[:, None] * self._unembed_T()  # (d_model, n_tokens)
            else:
                R_T = N @ self._unembed_T()  # (d_model, n_tokens)
            return Readout(R_T, self._scratch)

        return self._lazy("write", build)

    def read_readout(self) -> Readout:
        """Readout for read vectors (keys): ``key @ W_U[tokens].T``."""
        return self._lazy("read", lambda: Readout(self._unembed_T(), self._scratch))

    def _inputs(self, which: str) -> Tensor:
        ids = self.tokens if which == "tokens" else self.src_tokens
        return self._lazy(which, lambda: circuits.token_inputs(self.view, ids, self.dtype))

    # ----- projections ----------------------------------------------------------------------
    def vector_table(
        self, kind: str, layer: int, vectors: Tensor, expert: int = -1
    ) -> ProjectionTable:
        """Top-k tokens of ``vectors`` ``(n, d_model)`` under this projector's readout, both signs.

        ``kind`` is one of :data:`VECTOR_KINDS` or ``"vector"`` (read like values); ``expert``
        the mixture-of-experts expert the vectors belong to (-1: a dense layer).
        """
        readout = self.vector_readout(kind)
        if self.readout != "raw":
            vectors = self.unit_vectors(kind, vectors)  # (n, d_model)
        top = vector_topk(vectors.detach(), readout, self.k, block_mb=self.block_mb)
        return self.table(kind, layer, top, expert)

    def table(self, kind: str, layer: int, top: VectorTopK, expert: int = -1) -> ProjectionTable:
        """The :class:`ProjectionTable` of a vector top-k ``top`` under this projector's readout."""
        return ProjectionTable(
            kind=kind,
            layer=layer,
            index=torch.arange(top.scores.shape[0]),
            signs=(1, -1),
            scores=top.scores,
            token_ids=self.vector_tokens[top.cols],
            expert=expert,
            readout=self.readout,
        )

    def matrices(self, layer: int, kinds: Sequence[str]) -> Iterator[tuple[str, int, Tensor]]:
        """``(kind, expert, (d_mlp, d_model) matrix)`` of one layer, kind by kind, expert order.

        Raises:
            InputError: the MLP has no such matrix (keys_gate of a plain MLP, ...).
        """
        mlp = self.view.mlp(layer)
        for kind in kinds:
            if getattr(mlp, _MATRIX[kind]) is None:
                raise InputError(f"the model's MLP has no {kind} (gated: {mlp.gated})")
            for expert, part in mlp.parts():
                yield kind, expert, getattr(part, _MATRIX[kind])  # (d_mlp, d_model)

    def ffn(self, layer: int, kinds: Sequence[str]) -> list[ProjectionTable]:
        """``values`` and key tables of one layer (``kinds`` from :data:`VECTOR_KINDS`).

        A mixture-of-experts layer gives one table per (kind, expert), in expert order; the
        ``index`` is the neuron within its expert.
        """
        return [self.vector_table(kind, layer, matrix, expert)
                for kind, expert, matrix in self.matrices(layer, kinds)]  # fmt: skip

    def ffn_kinds(self, layer: int, what: Sequence[str]) -> list[str]:
        """The vector kinds that ``what`` (see :func:`parse_what`) names in one layer."""
        gated = self.view.mlp(layer).gated
        kinds = []
        for name in what:
            if name == "keys":
                kinds.extend(["keys_gate", "keys_up"] if gated else ["keys_in"])
            elif name in VECTOR_KINDS:
                kinds.append(name)
        return list(dict.fromkeys(kinds))

    def layer(self, layer: int, what: Sequence[str]) -> list[ProjectionTable]:
        """Every table that ``what`` (see :func:`parse_what`) asks for in one layer."""
        tables = self.ffn(layer, self.ffn_kinds(layer, what))
        if "ov" in what:
            tables.extend(self.ov(layer))
        if "qk" in what:
            tables.extend(self.qk(layer))
        return tables

    def result(self, tables: list[ProjectionTable]) -> Projections:
        """Wrap tables into a :class:`Projections` result of this model."""
        return Projections(model=self.lm.name, k=self.k, tables=tables, names=self.names)


@torch.inference_mode()
def project(
    model: Any,
    what: str | Iterable[str] = "values",
    layers: str | int | Iterable[int] | None = None,
    k: int = 30,
    *,
    tokens: Any = None,
    src_tokens: Any = None,
    final_norm: bool = True,
    block_mb: float = 192,
    progress: bool = False,
    readouts: str | Iterable[str] = "raw",
    hub_k: int = ro.HUB_K,
    mask_untrained: bool | None = None,
) -> Projections:
    """Project a model's parameters into its vocabulary (see the module docstring for what).

    Args:
        model: anything :func:`~vocablens.model.loading.load_model` accepts.
        what: ``"values"``, ``"keys"``, ``"keys_in"``/``"keys_gate"``/``"keys_up"``, ``"ov"``,
            ``"qk"``, or several (comma-separated string or list).
        layers: ``None`` (all), an int, a list, or a string like ``"0-5"`` / ``"0,2,4-6"``.
        k: top-k per vector and sign; per head for ``ov``/``ov_promoted``/``qk``.
        tokens: restrict the output side (key side for ``qk``) to ``"words"`` (see
            :func:`~vocablens.project.tokensets.whole_word_tokens`) or a list of token ids.
        src_tokens: restrict the source side of ``ov`` and the query side of ``qk`` likewise.
        final_norm: read written vectors through the final norm's gain (and centring).
        block_mb: size of the reused logits block in megabytes (memory stays flat).
        progress: show a progress bar over layers.
        readouts: vector-table readouts (:mod:`vocablens.project.readouts`), ``"raw"``,
            ``"cosine"``, ``"csls"`` or several (``"raw,cosine"`` or a list): one table per
            readout. Pair tables (``ov``, ``qk``) are computed once, raw.
        hub_k: ``K`` of the CSLS hub statistic.
        mask_untrained: leave untrained tokens out of vector tables; None: yes for cosine and
            csls, no for raw.

    Returns:
        :class:`Projections`; ``.to_pandas()`` gives the long format.

    Raises:
        InputError: unknown ``what`` or readout, bad layers, bad token sets or ``k``.
    """
    names = parse_what(what)
    readout_names = ro.parse_readouts(readouts)
    first = Projector(
        model, k, tokens=tokens, src_tokens=src_tokens, final_norm=final_norm,
        block_mb=block_mb, readout=readout_names[0], hub_k=hub_k, mask_untrained=mask_untrained,
    )  # fmt: skip
    projectors = [first.with_readout(name, mask_untrained) for name in readout_names]
    tables = []
    for layer in tqdm(
        layer_list(layers, first.view.n_layers),
        disable=not progress,
        desc="project",
        unit="layer",
    ):
        tables.extend(layer_tables(projectors, layer, names))
    return first.result(tables)


def layer_tables(
    projectors: Sequence[Projector], layer: int, what: Sequence[str]
) -> list[ProjectionTable]:
    """One layer's tables under several readouts: vector tables per readout, pairs once (raw).

    Raw and cosine tables of the same vectors come from one product
    (:func:`~vocablens.project.fused.ffn_tables`).

    Args:
        projectors: one :class:`Projector` per readout (:meth:`Projector.with_readout`).
        layer: the block.
        what: names from :func:`parse_what`.
    """
    vector_what = [name for name in what if name not in ("ov", "qk")]
    pair_what = [name for name in what if name in ("ov", "qk")]
    tables = []
    if vector_what:
        tables.extend(ffn_tables(projectors, layer, projectors[0].ffn_kinds(layer, vector_what)))
    if pair_what:
        tables.extend(projectors[0].layer(layer, pair_what))
    return tables


@torch.inference_mode()
def project_vectors(
    model: Any,
    vectors: Any,
    k: int = 30,
    *,
    tokens: Any = None,
    final_norm: bool = True,
    block_mb: float = 192,
    readout: str = "raw",
    hub_k: int = ro.HUB_K,
    mask_untrained: bool | None = None,
) -> Projections:
    """Project arbitrary residual-stream vectors into the vocabulary, like FFN values.

    Under ``csls`` the hub statistic is the one of the model's value vectors (the vectors are
    read like values).

    Args:
        model: anything :func:`~vocablens.model.loading.load_model` accepts.
        vectors: ``(n, d_model)`` or ``(d_model,)`` tensor or array.
        k: top-k per vector and sign.
        tokens: restrict to ``"words"`` or a list of token ids.
        final_norm: read the vectors through the final norm's gain (and centring).
        block_mb: size of the reused logits block in megabytes.
        readout: ``"raw"``, ``"cosine"`` or ``"csls"`` (:mod:`vocablens.project.readouts`).
        hub_k: ``K`` of the CSLS hub statistic.
        mask_untrained: leave untrained tokens out; None: yes for cosine and csls.

    Returns:
        :class:`Projections` with one table of kind ``"vector"``, layer -1, index = row number.

    Raises:
        InputError: vectors of the wrong shape, bad token set or ``k``.
    """
    projector = Projector(
        model, k, tokens=tokens, final_norm=final_norm, block_mb=block_mb, readout=readout,
        hub_k=hub_k, mask_untrained=mask_untrained,
    )  # fmt: skip
    vectors = torch.as_tensor(vectors)
    vectors = vectors[None] if vectors.ndim == 1 else vectors
    d_model = projector.view.d_model
    if vectors.ndim != 2 or vectors.shape[1] != d_model or vectors.shape[0] == 0:
        raise InputError(f"vectors must have shape (n, {d_model}), got {tuple(vectors.shape)}")
    table = projector.vector_table("vector", -1, vectors)
    return projector.result([table])
