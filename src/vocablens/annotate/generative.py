"""An optional generative labeller: ask a local instruction-tuned model for a short label.

Its output is a *suggestion*, kept apart from the WordNet / morphological label (the pipeline
puts it in the ``generative_suggestion`` column): a 135M-parameter model names obvious lists
("days of the week") but also confabulates, and nothing here measures it.

The prompt asks what most of the top tokens (stripped of spaces, duplicates removed) have in
common; the model's chat template formats it and the answer is pre-filled with
"Most of these words are related to" so that the model completes a category instead of
chatting. Greedy decoding (no sampling: reproducible) writes at most ``max_new_tokens`` tokens;
:func:`clean` keeps the first phrase and drops fillers ("the concept of", "the world of").
Few-shot prompts made the 135M model copy the examples' answers, so there are none.

The model may say there is nothing in common ("none", "nothing": the suggestion is empty), and a
suggestion is **checked against the tokens** (:func:`explains`): one that explains none of them
(none of its words is a token's word or a WordNet sense or hypernym lemma of one) is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from vocablens.annotate.normalize import normalize_token

DEFAULT_PROMPT = "What do most of these words have in common? {words}"
DEFAULT_PREFILL = "Most of these words are related to"


class GenerativeLabeler:
    """Label token lists by prompting a local chat model (greedy decoding).

    Args:
        model: a model spec for :func:`~vocablens.model.loading.load_model` (default: the
            embedded SmolLM2-135M-Instruct) or a LoadedModel.
        n_tokens: how many top tokens go into the prompt.
        max_new_tokens: generation budget.
        batch_size: prompts generated together (left padding).
        prompt: the user message; ``{words}`` is replaced by the comma-separated tokens.
        prefill: the start of the assistant's answer that the model completes.

    Attributes:
        model_: the LoadedModel (after :meth:`fit`).
    """

    def __init__(
        self,
        model: Any = "smollm2-135m",
        n_tokens: int = 20,
        max_new_tokens: int = 8,
        batch_size: int = 16,
        prompt: str = DEFAULT_PROMPT,
        prefill: str = DEFAULT_PREFILL,
    ):
        self.model = model
        self.n_tokens = n_tokens
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.prompt = prompt
        self.prefill = prefill

    def fit(self, X: object = None, y: object = None) -> GenerativeLabeler:
        """Load the model (X, y are ignored). Returns self."""
        from vocablens.model.loading import load_model

        self.model_ = load_model(self.model)
        return self

    def messages(self, tokens: Sequence[str]) -> list[dict[str, str]]:
        """The chat messages for one token list."""
        words: list[str] = []
        for token in tokens:
            text = normalize_token(str(token)).text
            if text and text not in words:
                words.append(text)
            if len(words) == self.n_tokens:
                break
        return [{"role": "user", "content": self.prompt.format(words=", ".join(words))}]

    def suggest(self, tokens: Sequence[str]) -> str:
        """A short label for one token list."""
        return self.transform([tokens])[0]

    def transform(self, token_lists: Iterable[Sequence[str]], progress: bool = False) -> list[str]:
        """Short labels for many token lists (greedy, batched).

        Args:
            token_lists: one list of top tokens per vector.
            progress: show a tqdm progress bar.
        """
        import torch
        from tqdm.auto import tqdm

        if not hasattr(self, "model_"):
            self.fit()
        lm = self.model_
        tok = lm.tokenizer
        lists = [list(t) for t in token_lists]
        prompts = [
            tok.apply_chat_template(self.messages(t), tokenize=False, add_generation_prompt=True)
            + self.prefill
            for t in lists
        ]
        out: list[str] = []
        side, pad = tok.padding_side, tok.pad_token
        tok.padding_side = "left"
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        try:
            for start in tqdm(range(0, len(prompts), self.batch_size), disable=not progress,
                              desc="generative labels", unit="batch"):  # fmt: skip
                batch = tok(prompts[start : start + self.batch_size], return_tensors="pt",
                            padding=True, add_special_tokens=False).to(lm.device)  # fmt: skip
                with torch.inference_mode():
                    generated = lm.model.generate(  # type: ignore[operator]
                        **batch,
                        max_new_tokens=self.max_new_tokens,
                        do_sample=False,
                        pad_token_id=tok.pad_token_id,
                    )
                new = generated[:, batch["input_ids"].shape[1] :]
                out.extend(clean(text) for text in tok.batch_decode(new, skip_special_tokens=True))
        finally:
            tok.padding_side, tok.pad_token = side, pad
        from vocablens.annotate.labeler import ConceptLabeler

        labeler = ConceptLabeler().fit()
        return [s if s and explains(s, t, labeler) else "" for s, t in zip(out, lists, strict=True)]


_FILLER = re.compile(
    r"^(the\s+)?(concept|world|idea|theme|topic|category|field|subject|domain)s?\s+of\s+"
    r"|^(the|a|an|different|various)\s+",
    re.IGNORECASE,
)
#: Answers that name no concept: the suggestion is left empty.
_GENERIC_TEXT = """concept concepts category categories word words thing things information idea
    ideas topic topics term terms meaning meanings"""
GENERIC = frozenset(_GENERIC_TEXT.split()) | {"none", "nothing", "no", "n/a"}


def clean(text: str) -> str:
    """The category a generation names: its first phrase without fillers ('' if generic).

    The phrase ends at a newline, punctuation, a quote or a conjunction; "the world of X" and
    "the concept of X" become X; "X of Y" becomes X ("month of December" -> "month").

    >>> clean(" the world of animals, and")
    'animals'
    >>> clean(" the city of Dublin, which is a")
    'city'
    >>> clean(' the concept of "ten" and')
    ''
    """
    phrase = re.split(r"[\n.,;:!?\"(]| and | but | that | which ", text.strip(), maxsplit=1)[0]
    phrase = phrase.strip().strip("'*`").strip()
    for _ in range(2):
        phrase = _FILLER.sub("", phrase).strip()
    phrase = re.sub(r"^([\w-]+) of\b.*$", r"\1", phrase)
    phrase = re.sub(r"\s+(to|to the|in|the)$", "", phrase, flags=re.IGNORECASE)
    phrase = " ".join(phrase.split()[:4])
    return "" if phrase.lower() in GENERIC else phrase


def explains(suggestion: str, tokens: Sequence[str], labeler: Any) -> bool:
    """Whether a suggestion explains at least one token (see the module docstring).

    Args:
        suggestion: the cleaned suggestion.
        tokens: the top tokens it was made for.
        labeler: a fitted :class:`~vocablens.annotate.labeler.ConceptLabeler`.
    """
    wn = labeler.lexicon_.wn
    words = set()
    for word in re.findall(r"[a-z]+", suggestion.lower()):
        words.add(word)
        words.update(b for b in (wn.morphy(word, "n"), wn.morphy(word, "v")) if b)
    for token in tokens:
        a = labeler.analyse(str(token))
        if a.key in words or a.token.lower in words:
            return True
        for support in a.support.values():
            for name in support:
                if name.split(".", 1)[0].replace("_", " ") in words:
                    return True
    return False
