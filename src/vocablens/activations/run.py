"""Resumable corpus runs into a folder: :class:`ActivationsConfig` → :func:`activations_to_dir`.

The corpus is streamed through the model in fixed chunks (:mod:`vocablens.activations.chunks`);
a forward pre-hook on each block's down projection hands every layer's neuron coefficients to
its running state (:mod:`vocablens.activations.accumulate`), so memory does not grow with the
corpus. The state is checkpointed (``checkpoint/``, written atomically) after the first chunk and
then whenever :data:`SAVE_EVERY` times the last write's duration has passed since it (writes
take at most ~2 % of the run; a 0.3 s write for SmolLM2: one every ~15 s): a run that is killed
and started again with the same options resumes after the last checkpointed chunk and gives the
same result as an uninterrupted one. Under ``torchrun`` each process takes every
``world``-th chunk and rank 0 merges the states exactly (:mod:`vocablens.activations.distributed`).

States are keyed ``(layer, expert)``: ``expert`` -1 for a dense layer, and one state per expert
of a mixture-of-experts layer, which sees only the tokens routed to that expert (the expert is
among the token's top-k choices). An expert neuron's coefficient includes the routing weight,
``w_e * act(gate) * up``, as in ``vocablens explain``
(:func:`vocablens.model.components.routed_coefficients`); its ``count`` is the number of tokens
routed to the expert.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from vocablens.activations import files
from vocablens.activations.accumulate import EDGES, MAX_POSITIONS, LayerState
from vocablens.activations.chunks import chunks, tokenized_documents, windows
from vocablens.activations.corpus import Corpus, open_corpus
from vocablens.activations.distributed import (
    Shard,
    barrier,
    gather_states,
    join,
    leave,
    sum_over_ranks,
)
from vocablens.activations.tables import context_rows, contexts_frame, stats_frame, top_rows
from vocablens.atomic import atomic_path, check_folder_target
from vocablens.buffers import Scratch
from vocablens.errors import InputError
from vocablens.layerspec import LayerSpec, layer_list, parse_layers
from vocablens.model.components import routed_coefficients, routing_groups
from vocablens.model.devices import resolve_device, resolve_dtype
from vocablens.model.loading import LoadedModel, load_model
from vocablens.model.neurons import capture_coefficients
from vocablens.project.run import _versions
from vocablens.tokens import token_strings

__all__ = ["ActivationsConfig", "activations_to_dir"]

#: A state's key: ``(layer, expert)``, ``expert`` -1 for a dense layer.
StateKey = tuple[int, int]
States = dict[StateKey, LayerState]
#: A checkpoint is written once this many times the last write's duration has passed since it.
SAVE_EVERY = 50


@dataclass(frozen=True)
class ActivationsConfig:
    """Options of a corpus run (what ``vocablens activations`` builds from its arguments).

    Attributes:
        model: a model spec for :func:`~vocablens.model.loading.load_model`, or a
            ``LoadedModel``.
        out: output folder.
        corpus: the corpus (:func:`~vocablens.activations.corpus.open_corpus`); None: the
            embedded WordNet glosses.
        field: the text field of JSONL, Parquet and dataset corpora.
        layers: layer spec (``"0-5"``, a list); None: every layer.
        max_tokens: stop after this many tokens; None: the whole corpus.
        context: tokens of text kept before each top token (and ``context // 4`` after).
        top_n: contexts kept per neuron and sign.
        seq_len: longest model input (documents are cut into windows of this many tokens).
        chunk_tokens: padded tokens per forward pass and per checkpoint.
        bos: prepend the BOS token to every window (never recorded).
        device: where to compute; None: where a loaded model is, the CPU for a spec. Under
            ``torchrun``, ``cuda`` means each process's ``cuda:LOCAL_RANK``.
        dtype: weights dtype name: float32, bfloat16 or float16.
        agree_k: top value tokens of the Geva et al. agreement (0: not computed).
        progress: show a progress bar in tokens.
    """

    model: str | LoadedModel
    out: Path
    corpus: str | Path | None = None
    field: str = "text"
    layers: LayerSpec = None
    max_tokens: int | None = None
    context: int = 64
    top_n: int = 20
    seq_len: int = 128
    chunk_tokens: int = 4096
    bos: bool = False
    device: str | None = None
    dtype: str = "float32"
    agree_k: int = 10
    progress: bool = True

    def check(self) -> ActivationsConfig:
        """The checks that need no model: output folder, corpus, numbers, layers, device, dtype.

        Returns:
            self.

        Raises:
            InputError: a bad value (named in the message).
        """
        check_folder_target(self.out)
        for name in ("context", "top_n", "seq_len", "chunk_tokens", "max_tokens", "agree_k"):
            value = getattr(self, name)
            low = 0 if name == "agree_k" else 1
            if value is None and name == "max_tokens":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InputError(f"{name} must be an integer ≥ {low}, got {value!r}")
        if self.seq_len + self.bos > self.chunk_tokens:
            raise InputError(f"chunk_tokens ({self.chunk_tokens}) must hold one window "
                             f"(seq_len {self.seq_len}{' + BOS' if self.bos else ''})")  # fmt: skip
        parse_layers(self.layers)
        resolve_dtype(self.dtype)
        if self.device is not None:
            resolve_device(self.device)
        open_corpus(self.corpus, self.field)
        return self

    def model_name(self) -> str:
        """The model's name as the manifest records it."""
        return self.model.name if isinstance(self.model, LoadedModel) else str(self.model)

    def options(self, layers: list[int]) -> dict[str, Any]:
        """The options that change results (a restart must repeat them to resume)."""
        return {"layers": layers, "max_tokens": self.max_tokens, "context": self.context,
                "top_n": self.top_n, "seq_len": self.seq_len, "chunk_tokens": self.chunk_tokens,
                "bos": self.bos, "dtype": self.dtype, "field": self.field,
                "agree_k": self.agree_k}  # fmt: skip


def _device(config: ActivationsConfig, shard_local: int) -> torch.device | None:
    if config.device is None:
        return None
    device = resolve_device(config.device)
    if device.type == "cuda" and device.index is None:
        device = resolve_device(f"cuda:{shard_local}")
    return device


class _Run:
    """One process's part of a run: the stream, the states, the checkpoint."""

    def __init__(self, config: ActivationsConfig, lm: LoadedModel, corpus: Corpus,
                 layers: list[int], shard: Shard):  # fmt: skip
        self.config, self.lm, self.corpus, self.layers, self.shard = (
            config, lm, corpus, layers, shard)  # fmt: skip
        self.out = Path(config.out)
        tok = lm.tokenizer
        self.bos = tok.bos_token_id if config.bos else None
        if config.bos and self.bos is None:
            raise InputError("the tokenizer has no BOS token; run without --bos")
        self.pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        self.checkpoint = self.out / files.CHECKPOINTS / f"rank{shard.rank}of{shard.world}.npz"
        self.keys: list[StateKey] = []  # in layer order, then expert order
        for layer in layers:
            mlp = lm.view.mlp(layer)
            self.keys += [(layer, e) for e in range(mlp.n_experts)] if mlp.moe else [(layer, -1)]
        self.scratch = Scratch()
        self.saved_at: float | None = None  # perf_counter() when the last checkpoint was done
        self.save_seconds = 0.0  # how long it took

    def save_due(self) -> bool:
        """Whether a checkpoint is due (none yet, or ``SAVE_EVERY`` × its cost since the last)."""
        if self.saved_at is None:
            return True
        return time.perf_counter() - self.saved_at >= SAVE_EVERY * self.save_seconds

    def stream(self):
        docs = tokenized_documents(self.corpus.documents(), self.lm.tokenizer)
        return windows(docs, self.config.seq_len, self.config.max_tokens)

    def load(self) -> tuple[States, int, int]:
        """The checkpointed states, the next chunk and the tokens done, or empty states, 0, 0."""
        if not self.checkpoint.is_file():
            empty = lambda ly: LayerState.empty(self.lm.view.mlp(ly).d_mlp, self.config.top_n)  # noqa: E731
            return {(ly, e): empty(ly) for ly, e in self.keys}, 0, 0
        with np.load(self.checkpoint) as arrays:
            meta = json.loads(str(arrays["meta"]))
            states = {key: LayerState.from_arrays(arrays, _prefix(key)) for key in self.keys}
        done = meta.get("tokens", states[self.keys[0]].count)  # older checkpoints: dense only
        return states, int(meta["next_chunk"]), int(done)

    def save(self, states: States, next_chunk: int, tokens: int) -> None:
        meta = {"next_chunk": next_chunk, "tokens": tokens}
        arrays: dict[str, Any] = {"meta": np.array(json.dumps(meta))}
        for key, state in states.items():
            arrays.update(state.to_arrays(_prefix(key)))
        start = time.perf_counter()
        with atomic_path(self.checkpoint) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
        self.saved_at = time.perf_counter()
        self.save_seconds = self.saved_at - start

    def forward(self, chunk, states: States, edges: torch.Tensor) -> None:
        """Run one chunk through the model, feeding every layer's coefficients to its states."""
        view, device = self.lm.view, self.lm.device
        rows, width = chunk.input_ids.shape
        select = chunk.select.to(device)
        positions = chunk.positions.to(device)

        def sink(layer: int, coefficients: torch.Tensor) -> None:
            flat = coefficients.reshape(rows * width, -1)  # (rows * pos, d_mlp)
            shape = (len(select), flat.shape[1])  # (T, d_mlp): the recorded tokens' rows
            into = self.scratch.get(shape, flat.dtype, flat.device, "rows")
            states[layer, -1].update(
                torch.index_select(flat, 0, select, out=into), positions, edges
            )

        def routing(layer: int, hidden: torch.Tensor, experts: torch.Tensor,
                    weights: torch.Tensor) -> None:  # fmt: skip
            x, chosen, w = (t.reshape(rows * width, -1).index_select(0, select)  # (tokens, ...)
                            for t in (hidden, experts, weights))  # fmt: skip
            groups = routing_groups(chosen, view.mlp(layer).n_experts)
            for e, group in enumerate(groups):
                if len(group[0]):  # (n_routed, d_mlp) at the routed tokens' positions
                    routed, coefficients = routed_coefficients(view, layer, x, chosen, w, e, group)
                    states[layer, e].update(coefficients, positions[routed], edges)

        kwargs = {
            "input_ids": chunk.input_ids.to(device),
            "attention_mask": chunk.attention_mask.to(device),
            "use_cache": False,
        }
        with capture_coefficients(view, self.layers, sink, routing):
            try:  # the logits are not needed: keep the model's head to one position
                view.model(**kwargs, logits_to_keep=1)
            except TypeError:
                view.model(**kwargs)

    def run(self) -> tuple[States, int]:
        """This process's states and the number of tokens it recorded."""
        states, start, done = self.load()
        edges = torch.tensor(EDGES, dtype=torch.float32, device=self.lm.device)
        total = self.config.max_tokens if self.shard.world == 1 else None
        bar = tqdm(total=total, initial=done, unit="tok", unit_scale=True, desc="activations",
                   disable=not self.config.progress or self.shard.rank != 0)  # fmt: skip
        owned = lambda c: c >= start and self.shard.owns(c)  # noqa: E731
        try:
            with torch.inference_mode():
                for chunk in chunks(self.stream(), self.config.chunk_tokens, self.bos, self.pad,
                                    owned):  # fmt: skip
                    if int(chunk.positions.max()) >= MAX_POSITIONS:
                        raise InputError("corpus longer than 2**32 tokens: use --max-tokens")
                    self.forward(chunk, states, edges)
                    done += len(chunk.select)
                    if self.save_due():
                        self.save(states, chunk.index + 1, done)
                    bar.update(len(chunk.select))
                    after_chunk(chunk.index)
        finally:
            bar.close()
        return states, done


def _prefix(key: StateKey) -> str:
    """A state's array names in a checkpoint: ``l3_`` (dense), ``l3e5_`` (expert 5)."""
    layer, expert = key
    return f"l{layer}_" if expert < 0 else f"l{layer}e{expert}_"


def after_chunk(index: int) -> None:
    """Called after each finished chunk (a seam for tests that kill a run mid-way)."""


def _start_manifest(config: ActivationsConfig, lm: LoadedModel, corpus: Corpus,
                    layers: list[int], world: int) -> dict[str, Any]:  # fmt: skip
    """The manifest of this run; checks a folder's earlier run is the same run."""
    out = Path(config.out)
    fingerprint = corpus.fingerprint()
    manifest: dict[str, Any] = {
        "format": files.FORMAT, "format_version": files.FORMAT_VERSION,
        "model": config.model_name(), "model_card": lm.view.describe(),
        "corpus": {**corpus.describe(), "fingerprint": fingerprint},
        "options": config.options(layers), "processes": world, "complete": False,
        "versions": _versions(),
    }  # fmt: skip
    if (out / files.MANIFEST).exists():
        old = files.read_manifest(out)
        same = all(old.get(key) == manifest[key] for key in ("model", "options"))
        if not same or old.get("corpus", {}).get("fingerprint") != fingerprint:
            raise InputError(f"{out} holds activations of another model, corpus or options; "
                             "use a new --out folder or repeat the original options")  # fmt: skip
        if old.get("complete"):
            return old
        if old.get("processes") != world and (out / files.CHECKPOINTS).is_dir():
            raise InputError(f"{out} holds a run of {old.get('processes')} processes; resume it "
                             "with as many, or use a new --out folder")  # fmt: skip
    return manifest


def _finish(run: _Run, states: States, tokens: int, manifest: dict[str, Any]) -> None:
    """Rank 0: write the tables, the agreement and the complete manifest; drop checkpoints."""
    config, lm, out = run.config, run.lm, run.out
    stats = pd.concat([stats_frame(ly, states[ly, e], e) for ly, e in run.keys],
                      ignore_index=True)  # fmt: skip
    tops = pd.concat([top_rows(ly, states[ly, e], e) for ly, e in run.keys], ignore_index=True)
    names = lambda ids: token_strings(lm.tokenizer, ids, readable=False)  # noqa: E731
    wanted = set(tops["position"].tolist())
    found = context_rows(run.stream(), wanted, lm.tokenizer, config.context, names)
    joined = contexts_frame(tops, found)
    text_columns = ["position", "doc", "doc_position", "token_id", "token", "next_token_id",
                    "next_token", "prefix", "suffix"]  # fmt: skip
    texts = joined[text_columns].drop_duplicates("position").sort_values("position")
    files.write_frame(stats, out / files.STATS)
    files.write_frame(tops, out / files.TOP)
    files.write_frame(texts.reset_index(drop=True), out / files.CONTEXTS)
    if config.agree_k:
        from vocablens.activations.agreement import agreement_for

        files.write_frame(agreement_for(lm, joined, config.agree_k), out / files.AGREEMENT)
    manifest.update(complete=True, tokens=int(tokens),
                    updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"))  # fmt: skip
    files.write_manifest(out, manifest)
    shutil.rmtree(out / files.CHECKPOINTS, ignore_errors=True)


def activations_to_dir(config: ActivationsConfig) -> Path:
    """Stream a corpus through a model into ``config.out`` (see the module docstring).

    A folder holding an unfinished run with the same model, corpus and options is resumed; a
    finished one is left as it is. Read the result with
    :func:`~vocablens.activations.files.read_activations`.

    Returns:
        The output folder.

    Raises:
        InputError: bad options, an empty corpus, or ``out`` holds another run.
        ModelLoadError, UnsupportedModelError: the model cannot be used.
    """
    config.check()  # before loading the model: a refused run costs a second, writes nothing
    corpus = open_corpus(config.corpus, config.field)
    import os

    shard = join(_device(config, int(os.environ.get("LOCAL_RANK", "0"))))
    try:
        return _run_shard(config, corpus, shard)
    finally:
        leave(shard)


def _run_shard(config: ActivationsConfig, corpus: Corpus, shard: Shard) -> Path:
    device = _device(config, shard.local_rank)
    lm = load_model(config.model, device=device, dtype=resolve_dtype(config.dtype))
    layers = layer_list(config.layers, lm.view.n_layers)
    run = _Run(config, lm, corpus, layers, shard)
    if next(run.stream(), None) is None:
        raise InputError(f"the corpus {corpus.source} holds no text (no tokens)")
    out = Path(config.out)
    manifest = _start_manifest(config, lm, corpus, layers, shard.world)
    if manifest.get("complete"):
        return out
    barrier(shard)  # every rank has checked the folder before rank 0 writes into it
    created = not out.exists()
    try:
        if shard.rank == 0:
            out.mkdir(parents=True, exist_ok=True)
            files.write_manifest(out, manifest)
        barrier(shard)
        states, tokens = run.run()
        states, tokens = gather_states(shard, states), sum_over_ranks(shard, tokens)
        if shard.rank == 0:
            _finish(run, states, tokens, manifest)
        barrier(shard)
    except BaseException:
        if created and shard.rank == 0 and not (out / files.CHECKPOINTS).is_dir():
            shutil.rmtree(out, ignore_errors=True)  # nothing finished: leave no folder behind
        raise
    return out
