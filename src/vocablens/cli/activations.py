"""``vocablens activations``: what makes each FFN neuron fire, over a corpus (resumable)."""

from __future__ import annotations

import click

from vocablens.cli import options


@click.command("activations")
@options.model
@click.option("--corpus", default=None, metavar="SOURCE",
              help="A .txt/.jsonl/.parquet file, a folder of them, a saved datasets folder, or "
                   "'wordnet' (default: the embedded WordNet glosses).")  # fmt: skip
@options.out("the folder: stats, top contexts, agreement (Parquet) and manifest.json",
             required=True)  # fmt: skip
@options.layers
@click.option("--max-tokens", type=click.IntRange(min=1), default=None,
              help="Stop after this many tokens (default: the whole corpus).")  # fmt: skip
@click.option("--context", type=click.IntRange(min=1), default=64, show_default=True,
              help="Tokens of text kept before each top token.")  # fmt: skip
@click.option("--top-n", type=click.IntRange(min=1), default=20, show_default=True,
              help="Top-activating contexts kept per neuron and sign.")  # fmt: skip
@click.option(
    "--seq-len",
    type=click.IntRange(min=1),
    default=128,
    show_default=True,
    help="Longest model input; documents are cut into windows of this length.",
)
@click.option("--chunk-tokens", type=click.IntRange(min=1), default=4096, show_default=True,
              help="Padded tokens per forward pass and per checkpoint.")  # fmt: skip
@click.option("--field", default="text", show_default=True,
              help="Text field of JSONL / Parquet / dataset corpora.")  # fmt: skip
@options.top_k(10)
@options.bos
@options.device
@options.dtype
@options.quiet
def command(model, corpus, out, layers, max_tokens, context, top_n, seq_len, chunk_tokens,
            field, top_k, bos, device, dtype, quiet) -> None:  # fmt: skip
    """Stream a corpus through MODEL and record what makes each FFN neuron fire.

    Per neuron and sign: the top-n activating contexts; per neuron: mean, variance, fraction
    active and quantiles of its coefficient; per layer: how often a value vector's top-k tokens
    (--top-k) hold the token that follows its triggers (Geva et al. 2020). Restarting with the
    same options and --out resumes after the last finished chunk. Run it under torchrun to
    shard the corpus over processes. In a mixture-of-experts layer each expert's neurons are
    recorded over the tokens routed to that expert (coefficients include the routing weight).
    """
    from dataclasses import replace
    from pathlib import Path

    from vocablens.activations.run import ActivationsConfig, activations_to_dir
    from vocablens.model.devices import resolve_dtype
    from vocablens.model.loading import load_model

    config = ActivationsConfig(model=model, out=Path(out), corpus=corpus, field=field,
                               layers=layers, max_tokens=max_tokens, context=context,
                               top_n=top_n, seq_len=seq_len, chunk_tokens=chunk_tokens, bos=bos,
                               device=device, dtype=dtype, agree_k=top_k,
                               progress=not quiet).check()  # fmt: skip
    if device is None or not device.startswith("cuda"):  # under torchrun each rank picks its GPU
        config = replace(config, model=load_model(model, device=device,
                                                  dtype=resolve_dtype(dtype)))  # fmt: skip
    folder = activations_to_dir(config)
    if not quiet:
        click.echo(f"wrote {folder}")
