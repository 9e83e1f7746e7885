"""The top-level package: every advertised name resolves, and nothing heavy loads on import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import vocablens


@pytest.mark.parametrize("name", vocablens.__all__)
def test_every_public_name_resolves(name):
    assert getattr(vocablens, name) is not None


def test_unknown_name():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        vocablens.nope  # noqa: B018


def test_import_does_not_load_plotting():
    code = "import sys, vocablens; print('matplotlib' in sys.modules, 'umap' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_import_vocablens_loads_no_torch():
    code = "import sys, vocablens; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
