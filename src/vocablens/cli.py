"""The ``vocablens`` command: a thin click group; each subcommand calls one library function."""

from __future__ import annotations

import sys

import click

from vocablens.errors import VocabLensError


class _Group(click.Group):
    """Turns every VocabLensError into a one-line message and exit code 2 (never a traceback)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except VocabLensError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="vocablens")
def main() -> None:
    """Read transformer language models in the space of their own vocabulary."""


def parse_layers(text: str | None) -> list[int] | None:
    """Parse ``"0-5"``, ``"3"`` or ``"0,2,4-6"`` into layer numbers (None for no filter)."""
    if text is None or not text.strip():
        return None
    layers: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            layers += range(int(lo), int(hi or lo) + 1)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a layer list like 0-5 or 0,2,4-6") from None
    return sorted(set(layers))


# --- subcommands ---------------------------------------------------------------------------


@main.command("lens")
@click.argument("model")
@click.argument("prompts", nargs=-1, required=True)
@click.option("--top-k", "-k", default=5, show_default=True, help="Top tokens per site and position.")
@click.option("--target", default=None, help="Track this token's rank and probability (one token).")
@click.option("--sites", default="resid", show_default=True,
              help="Comma list of resid, resid_mid, attn_out, mlp_out.")
@click.option("--layers", default=None, help="Layers to read, e.g. 0-5 or 0,10,20-30.")
@click.option("--json", "json_path", default=None, help="Write the full result as JSON (- for stdout).")
@click.option("--bos", is_flag=True, help="Prepend the BOS token.")
@click.option("--truncate", is_flag=True, help="Cut prompts longer than the context.")
def lens_cmd(model, prompts, top_k, target, sites, layers, json_path, bos, truncate) -> None:
    """Logit lens: read the residual stream of PROMPTS through MODEL's unembedding.

    MODEL is a directory, a .gguf file, a hub id, or the alias smollm2-135m.
    """  # fmt: skip
    from vocablens.io import write_text_atomic
    from vocablens.lens.logit_lens import logit_lens

    site_names = tuple(s.strip() for s in sites.split(",") if s.strip())
    result = logit_lens(model, list(prompts), k=top_k, target=target, sites=site_names,
                        layers=parse_layers(layers), bos=bos, truncate=truncate)  # fmt: skip
    if json_path == "-":
        click.echo(result.to_json())
        return
    for p, text in enumerate(result.texts):
        click.echo(f"\nprompt {p}: {text!r}")
        for site in site_names:
            click.echo(result.table(p, site))
        final = result.token(result.final_top1[p, len(result.token_ids[p]) - 1])
        first = result.first_top1_layer[p, len(result.token_ids[p]) - 1]
        if "resid" in site_names:
            click.echo(f"final top-1 {final!r} first becomes top-1 at resid layer {first}")
    if json_path:
        write_text_atomic(json_path, result.to_json())
        click.echo(f"wrote {json_path}")


def run() -> None:  # pragma: no cover - console entry point alias
    main()
