"""``vocablens lens``: the logit lens of a few prompts, as tables or JSON."""

from __future__ import annotations

import contextlib

import click

from vocablens.cli import options


@click.command("lens")
@options.model
@click.argument("prompts", nargs=-1, required=True)
@options.top_k(5)
@click.option("--target", default=None, help="Track this token's rank and probability (one token).")
@click.option(
    "--sites",
    default="resid",
    show_default=True,
    help="Comma list of resid, resid_mid, attn_out, mlp_out.",
)
@options.layers
@click.option(
    "--json", "json_path", default=None, help="Write the full result as JSON (- for stdout)."
)
@options.bos
@options.truncate
@options.device
@options.dtype
@options.ablate
@options.boost
def command(model, prompts, top_k, target, sites, layers, json_path, bos, truncate, device,
            dtype, ablate, boost) -> None:  # fmt: skip
    """Logit lens: read the residual stream of PROMPTS through MODEL's unembedding.

    MODEL is a directory, a .gguf file, a hub id, or the alias smollm2-135m.
    """
    from vocablens.atomic import check_file_target, write_text_atomic
    from vocablens.lens.inputs import check_prompt, check_text
    from vocablens.lens.logit_lens import logit_lens
    from vocablens.model.devices import resolve_dtype
    from vocablens.model.loading import load_model
    from vocablens.tokens import shown

    for prompt in prompts:  # before loading the model
        check_prompt(prompt)
    if target is not None:
        check_text(target, "target")
    if json_path not in (None, "-"):
        check_file_target(json_path)
    site_names = tuple(s.strip() for s in sites.split(",") if s.strip())
    lm = load_model(model, device=device, dtype=resolve_dtype(dtype))
    intervention = options.intervention(lm, ablate, boost)
    with intervention or contextlib.nullcontext():
        result = logit_lens(lm, list(prompts), k=top_k, target=target, sites=site_names,
                            layers=layers, bos=bos, truncate=truncate)  # fmt: skip
    if json_path == "-":
        click.echo(result.to_json())
        return
    for p, text in enumerate(result.texts):
        click.echo(f"\nprompt {p}: {text!r}")
        for site in site_names:
            click.echo(result.table(p, site))
        final = shown(result.token(result.final_top1[p, len(result.token_ids[p]) - 1]))
        first = result.first_top1_layer[p, len(result.token_ids[p]) - 1]
        if "resid" in site_names and first >= 0:
            click.echo(f"final top-1 {final} first becomes top-1 at resid layer {first}")
        elif "resid" in site_names:
            click.echo(f"final top-1 {final} is top-1 at none of the resid layers read")
    if intervention is not None:
        from vocablens.intervene.effect import lens_effect

        effect = lens_effect(lm, list(prompts), intervention, target=target, k=top_k, bos=bos)
        for p in range(len(prompts)):
            click.echo("\n" + effect.table(p))
    if json_path:
        write_text_atomic(json_path, result.to_json())
        click.echo(f"wrote {json_path}")
