"""``vocablens trace``: causal tracing (ROME) of one prompt, or of the facts the model knows."""

from __future__ import annotations

import click

from vocablens.cli import options


@click.command("trace")
@options.model
@click.argument("prompt", required=False)
@click.option("--subject", default=None, help="The subject span of PROMPT (a substring).")
@click.option("--target", default=None, help="The correct token (default: the model's top-1).")
@click.option(
    "--prompts",
    "n_prompts",
    type=click.IntRange(min=1),
    default=12,
    show_default=True,
    help="Without PROMPT: trace this many of the built-in facts the model gets right.",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Noise draws per prompt.",
)
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Layers restored together for mlp_out / attn_out.",
)
@click.option(
    "--noise",
    type=click.FloatRange(min=0),
    default=3.0,
    show_default=True,
    help="Noise scale, in embedding standard deviations.",
)
@options.out("the tracing page (a folder)", required=True)
@options.device
@options.dtype
def command(model, prompt, subject, target, n_prompts, seeds, window, noise, out, device,
            dtype) -> None:  # fmt: skip
    """Causal tracing: corrupt the subject, restore one state at a time, see where the fact is.

    With PROMPT and --subject, a full heatmap of that prompt. Without, the per-layer average
    indirect effect at the last subject token and the last token over the built-in facts that
    MODEL gets right, plus the full heatmap of the first.
    """
    from vocablens.atomic import check_replaceable_folder
    from vocablens.errors import InputError
    from vocablens.intervene.facts import FACTS, known_facts
    from vocablens.intervene.tracing import summarize, trace
    from vocablens.lens.inputs import check_prompt
    from vocablens.model.devices import resolve_dtype
    from vocablens.model.loading import load_model
    from vocablens.reports.intervene_pages import MARKER, write_trace_page

    if prompt is not None:
        check_prompt(prompt)
        if not subject:
            raise InputError("tracing a PROMPT needs its --subject")
    check_replaceable_folder(out, MARKER, "page")
    lm = load_model(model, device=device, dtype=resolve_dtype(dtype))
    kw = dict(seeds=tuple(range(seeds)), window=window, noise=noise)
    if prompt is not None:
        full = trace(lm, prompt, subject, target=target, **kw)
        traces = [full]
    else:
        known = known_facts(lm, FACTS)
        if not known:
            raise InputError("the model gets none of the built-in facts right: nothing to trace")
        click.echo(
            f"{len(known)} of {len(FACTS)} built-in facts right; tracing {min(n_prompts, len(known))}"
        )
        traces = [trace(lm, p, s, positions="summary", **kw) for p, s, _ in known[:n_prompts]]
        full = trace(lm, *known[0][:2], **kw)
    summary = summarize(traces)
    for k, kind in enumerate(summary.kinds):
        for where, grid in (
            ("last subject", summary.last_subject),
            ("last token", summary.last_token),
        ):
            click.echo(f"{kind:8} at {where:12}: peak indirect effect {grid[k].max():.3f} "
                       f"at layer {int(grid[k].argmax())}")  # fmt: skip
    path = write_trace_page(traces, summary, out, model=lm.name, full=full)
    click.echo(f"wrote {path}/index.html")
