"""Shared fixtures of the CLI tests."""

from __future__ import annotations

import pytest

from tiny_models import tiny_model
from tiny_tokenizer import save_tiny, tiny_tokenizer


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A tiny random Llama with a word-level tokenizer, saved as a real model directory.

    Test modules that need another model define their own ``model_dir``.
    """
    model, _ = tiny_model("llama", seed=1)
    return str(save_tiny(model, tiny_tokenizer(160), tmp_path_factory.mktemp("tiny") / "llama"))
