"""Task sets for circuit discovery, generated from templates, each with its metric.

* ``greater-than`` (Hanna et al. 2023): "The war lasted from the year 17YY to the year 17";
  metric: probability mass on end years > YY minus on years ≤ YY. Tokenizers that split numbers
  into digits (SmolLM2, Llama) get the two-digit mass from one pass over the prompt plus the
  first digit of YY: ``P(d1 > Y1) + P(d1 = Y1) P(d2 > Y2 | Y1)`` and likewise for ≤.
* ``ioi`` (Wang et al. 2022): "When Mary and John went to the store, John gave a drink to";
  metric: logit(IO) − logit(S) (" Mary" − " John").
* ``colored-objects`` (Ippolito & Callison-Burch 2023, BIG-bench "reasoning about colored
  objects", as used by Merullo et al. 2024): "On the table, I see a red pen, a blue book and a
  green cup. What color is the book? Answer:"; metric: logit of the right colour minus the mean
  logit of the other colours listed; correct when it is the highest of them.

Every example of a set has the same token length (the modal length of the generated examples),
so per-position mean ablation is defined. ``correct`` says which examples the model gets right.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from vocablens.errors import InputError

TASKS = ("greater-than", "ioi", "colored-objects")
Tensor = torch.Tensor


@dataclass
class TaskSet:
    """A task's examples and metric.

    Attributes:
        name: the task.
        prompts: the prompt texts (what a reader sees).
        ids: ``(n, T)`` the token ids run (all the same length ``T``).
        read: positions read, counted from the end (``(-1,)``; greater-than ``(-2, -1)``).
        metric: ``(n, len(read), vocab)`` float logits -> ``(n,)`` metric per example.
        correct: the same logits -> ``(n,)`` bool, right or not.
        answers: the right answer of each example, as text.
        tokens: the token ids the task is about (names, colours, digits), for OV/QK readings.
    """

    name: str
    prompts: list[str]
    ids: list[list[int]]
    read: tuple[int, ...]
    metric: Callable[[Tensor], Tensor]
    correct: Callable[[Tensor], Tensor]
    answers: list[str]
    tokens: list[int] = field(default_factory=list)


def _one_token(tokenizer, text: str) -> int | None:
    """The id of ``text`` when it is one known token (not the unknown token), else None."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    unknown = getattr(tokenizer, "unk_token_id", None)
    return ids[0] if len(ids) == 1 and ids[0] != unknown else None


def _modal(prompts: list[str], tokenizer, extra: list[list[int]] | None = None) -> list[int]:
    """Indices of the examples with the most common token length."""
    ids = [tokenizer(p)["input_ids"] for p in prompts]
    if extra is not None:
        ids = [i + e for i, e in zip(ids, extra, strict=True)]
    common = Counter(len(i) for i in ids).most_common(1)[0][0]
    return [n for n, i in enumerate(ids) if len(i) == common]


_NOUNS = ("war", "expedition", "drought", "siege", "journey", "reign", "dynasty", "strike",
          "famine", "pilgrimage", "voyage", "occupation")  # fmt: skip


def greater_than(tokenizer, n: int = 48, seed: int = 0) -> TaskSet:
    """Hanna et al.'s greater-than task (see the module docstring)."""
    rng = random.Random(seed)
    found = [_one_token(tokenizer, str(d)) for d in range(10)]
    digits = [d for d in found if d is not None]
    if len(digits) != 10:
        raise InputError("greater-than needs single-digit tokens 0..9 in the tokenizer")
    split_digits = _one_token(tokenizer, "17") is None
    items = [(rng.choice(_NOUNS), rng.randint(2, 98)) for _ in range(n * 2)]
    prompts = [f"The {noun} lasted from the year 17{yy:02d} to the year 17" for noun, yy in items]
    extra = [[digits[yy // 10]] if split_digits else [] for _, yy in items]
    keep = _modal(prompts, tokenizer, extra)[:n]
    yys = torch.tensor([items[i][1] for i in keep])
    d_ids = torch.tensor(digits)
    if not split_digits:
        raise InputError("greater-than is built for tokenizers that split years into digits")

    def masses(logits: Tensor) -> tuple[Tensor, Tensor]:
        p1 = logits[:, 0].softmax(-1)[:, d_ids]  # (n, 10) first digit after "17"
        p2 = logits[:, 1].softmax(-1)[:, d_ids]  # (n, 10) second digit after "17Y1"
        y1, y2 = (yys // 10)[:, None], (yys % 10)[:, None]
        d = torch.arange(10)[None]
        p_y1 = p1.gather(1, y1)[:, 0]
        above = (p1 * (d > y1)).sum(1) + p_y1 * (p2 * (d > y2)).sum(1)
        below = (p1 * (d < y1)).sum(1) + p_y1 * (p2 * (d <= y2)).sum(1)
        return above, below

    def metric(logits: Tensor) -> Tensor:
        above, below = masses(logits)
        return above - below

    def correct(logits: Tensor) -> Tensor:
        above, below = masses(logits)
        return above > below

    ids = [tokenizer(prompts[i])["input_ids"] + extra[i] for i in keep]
    return TaskSet("greater-than", [prompts[i] for i in keep], ids, (-2, -1), metric, correct,
                   [f"> 17{items[i][1]:02d}" for i in keep], digits)  # fmt: skip


_NAMES = (" Mary", " John", " Tom", " James", " Anna", " Sarah", " David", " Paul", " Lisa",
          " Kate", " Mark", " Alice", " Peter", " Emma", " Jack", " Laura")  # fmt: skip
_PLACES = ("store", "park", "school", "office", "beach", "market", "station", "garden")
_OBJECTS = ("drink", "book", "ball", "letter", "gift", "key", "ring", "bag")
_IOI = (
    "When{A} and{B} went to the {place},{S} gave a {obj} to",
    "After{A} and{B} went to the {place},{S} gave a {obj} to",
    "Then,{A} and{B} had a long day at the {place}.{S} gave a {obj} to",
)


def ioi(tokenizer, n: int = 48, seed: int = 0) -> TaskSet:
    """Wang et al.'s indirect object identification (see the module docstring)."""
    rng = random.Random(seed)
    names = [(name, i) for name in _NAMES if (i := _one_token(tokenizer, name)) is not None]
    if len(names) < 2:
        raise InputError("ioi needs at least two single-token names in the tokenizer")
    items = []
    for _ in range(n * 2):
        (io, io_id), (s, s_id) = rng.sample(names, 2)
        a, b = (io, s) if rng.random() < 0.5 else (s, io)
        template = rng.choice(_IOI)
        text = template.format(A=a, B=b, S=s, place=rng.choice(_PLACES), obj=rng.choice(_OBJECTS))
        items.append((text, io, io_id, s_id))
    keep = _modal([t for t, *_ in items], tokenizer)[:n]
    io_ids = torch.tensor([items[i][2] for i in keep])
    s_ids = torch.tensor([items[i][3] for i in keep])

    def metric(logits: Tensor) -> Tensor:
        last = logits[:, -1]  # (n, vocab)
        return last.gather(1, io_ids[:, None])[:, 0] - last.gather(1, s_ids[:, None])[:, 0]

    def correct(logits: Tensor) -> Tensor:
        return metric(logits) > 0

    prompts = [items[i][0] for i in keep]
    return TaskSet("ioi", prompts, [tokenizer(p)["input_ids"] for p in prompts], (-1,), metric,
                   correct, [items[i][1] for i in keep], [i for _, i in names])  # fmt: skip


_COLORS = (" red", " blue", " green", " yellow", " black", " white", " orange", " purple",
           " pink", " brown", " grey")  # fmt: skip
_THINGS = ("pen", "book", "cup", "ball", "hat", "box", "key", "phone", "shoe", "plate")


def colored_objects(tokenizer, n: int = 48, seed: int = 0) -> TaskSet:
    """Ippolito & Callison-Burch's coloured objects (see the module docstring)."""
    rng = random.Random(seed)
    colors = [(c, i) for c in _COLORS if (i := _one_token(tokenizer, c)) is not None]
    if len(colors) < 3:
        raise InputError("colored-objects needs at least three single-token colours")
    items = []
    for _ in range(n * 2):
        picked = rng.sample(colors, 3)
        things = rng.sample(_THINGS, 3)
        q = rng.randrange(3)
        listed = ", ".join(f"a{c} {t}" for (c, _), t in zip(picked[:2], things[:2], strict=True))
        text = (f"On the table, I see {listed} and a{picked[2][0]} {things[2]}. "
                f"What color is the {things[q]}? Answer:")  # fmt: skip
        items.append((text, picked[q][0], [i for _, i in picked], q))
    keep = _modal([t for t, *_ in items], tokenizer)[:n]
    listed_ids = torch.tensor([items[i][2] for i in keep])  # (n, 3)
    right = torch.tensor([items[i][3] for i in keep])  # (n,)

    def scores(logits: Tensor) -> Tensor:
        return logits[:, -1].gather(1, listed_ids)  # (n, 3)

    def metric(logits: Tensor) -> Tensor:
        s = scores(logits)
        mine = s.gather(1, right[:, None])[:, 0]
        return mine - (s.sum(1) - mine) / 2

    def correct(logits: Tensor) -> Tensor:
        return scores(logits).argmax(1) == right

    prompts = [items[i][0] for i in keep]
    return TaskSet("colored-objects", prompts, [tokenizer(p)["input_ids"] for p in prompts],
                   (-1,), metric, correct, [items[i][1] for i in keep],
                   [i for _, i in colors])  # fmt: skip


def make_task(name: str, tokenizer, n: int = 48, seed: int = 0) -> TaskSet:
    """The task set ``name`` (one of :data:`TASKS`) for ``tokenizer``.

    Raises:
        InputError: an unknown task, no tokenizer, or a tokenizer the templates do not fit.
    """
    if tokenizer is None:
        raise InputError("task sets need a tokenizer")
    builders = {"greater-than": greater_than, "ioi": ioi, "colored-objects": colored_objects}
    if name not in builders:
        raise InputError(f"unknown task {name!r}; use one of {', '.join(TASKS)}")
    return builders[name](tokenizer, n=n, seed=seed)
