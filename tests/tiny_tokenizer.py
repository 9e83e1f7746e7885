"""A word-level tokenizer built offline, so tiny models can be saved and loaded like real ones."""

from __future__ import annotations

from pathlib import Path

import torch


def tiny_tokenizer(vocab_size: int, extra: tuple[str, ...] = ()):
    """A ``PreTrainedTokenizerFast`` over the words ``w4 .. w{n}`` plus ``extra`` words.

    Ids 0..3 are ``<pad> <bos> <eos> <unk>``; text is split on whitespace.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["<pad>", "<bos>", "<eos>", "<unk>", *extra]
    words += [f"w{i}" for i in range(len(words), vocab_size)]
    vocab = {w: i for i, w in enumerate(words[:vocab_size])}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", bos_token="<bos>", eos_token="<eos>",
        unk_token="<unk>",
    )  # fmt: skip


def save_tiny(model: torch.nn.Module, tokenizer, folder: Path | str) -> Path | str:
    """Save a tiny model and its tokenizer as a model directory (safetensors)."""
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
