"""``vocablens explain``: which heads, neurons and biases build one prediction (a table or JSON)."""

from __future__ import annotations

import click

from vocablens.cli import options


@click.command("explain")
@options.model
@click.argument("prompt")
@click.option(
    "--target", default=None, help="Explain this token (one token; default: the prediction)."
)
@click.option("--contrast", default=None, help="Explain logit(target) - logit(this token).")
@click.option("--position", type=int, default=-1, show_default=True,
              help="The position to explain (negative counts from the end).")  # fmt: skip
@options.top_k(5)
@options.layers
@click.option("--annotations", default=None, metavar="PATH",
              help="An annotation file (vocablens annotate): label the top neurons.")  # fmt: skip
@click.option("--geva-top", type=click.IntRange(min=0), default=10, show_default=True,
              help="Top sub-updates per layer whose value vectors are ranked (Geva et al. 2022).")  # fmt: skip
@click.option("--json", "json_path", default=None, help="Write the result as JSON (- for stdout).")
@options.bos
@options.truncate
@options.device
@options.dtype
def command(model, prompt, target, contrast, position, top_k, layers, annotations, geva_top,
            json_path, bos, truncate, device, dtype) -> None:  # fmt: skip
    """Direct logit attribution: what each head, neuron and bias adds to PROMPT's prediction.

    Every contribution is read through the final norm frozen at its scale for the position;
    they add up to the residual stream's logit. MODEL is a directory, a .gguf file, a hub id,
    or the alias smollm2-135m.
    """
    from vocablens.atomic import check_file_target, write_text_atomic
    from vocablens.errors import InputError
    from vocablens.explain import explain
    from vocablens.explain.labels import label_lookup
    from vocablens.explain.table import render
    from vocablens.layerspec import parse_layers
    from vocablens.lens.inputs import check_prompt, check_text
    from vocablens.model.devices import resolve_dtype
    from vocablens.model.loading import load_model

    check_prompt(prompt)  # before loading the model
    for name, token in (("target", target), ("contrast", contrast)):
        if token is not None:
            check_text(token, name)
            if not token:
                raise InputError(f"empty {name} token")
    if json_path not in (None, "-"):
        check_file_target(json_path)
    labels = label_lookup(annotations) if annotations else None  # a bad file fails early
    lm = load_model(model, device=device, dtype=resolve_dtype(dtype))
    shown_layers = parse_layers(layers, lm.view.n_layers)
    result = explain(lm, prompt, target, contrast=contrast, position=position, bos=bos,
                     truncate=truncate, annotations=labels, geva_top=geva_top)  # fmt: skip
    if json_path == "-":
        click.echo(result.to_json(top_k))
        return
    click.echo(render(result, top_k, shown_layers))
    if json_path:
        write_text_atomic(json_path, result.to_json(top_k))
        click.echo(f"wrote {json_path}")
