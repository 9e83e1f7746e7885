"""Headless Chromium (the report tests' set-up): keyboard labelling, reload, labels saved.

Hostile text shows escaped.
"""

from __future__ import annotations

import pytest

from vocablens.campaign.loadtest import free_port, start_server
from vocablens.campaign.store import CampaignStore


@pytest.fixture(scope="module")
def served(tmp_path_factory, projections):
    db = str(tmp_path_factory.mktemp("web") / "c.db")
    store = CampaignStore.create(db, projections, overlap=2)
    tokens = {
        n: store.add_person(n, r)[1] for n, r in (("ann", "annotator"), ("judge", "adjudicator"))
    }
    store.close()
    port = free_port()
    server = start_server(db, port)
    try:
        yield f"http://127.0.0.1:{port}", tokens, db
    finally:
        server.kill()
        server.wait()


def wait_for(driver, condition, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def test_label_from_the_keyboard_reload_and_find_it_saved(browser, served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, tokens, db = served
    browser.get(f"{base}/a/{tokens['ann']}/")
    first_url = wait_for(browser, lambda d: "/item/" in d.current_url and d.current_url)
    concept = browser.find_element(By.ID, "concept")
    evil = "<script>alert('x')</script>"
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("c")  # the concept box
    concept.send_keys(evil)
    concept.send_keys(Keys.ESCAPE)
    body.send_keys("s")  # medium confidence
    body.send_keys(Keys.ENTER)  # save -> next item
    second_url = wait_for(
        browser,
        lambda d: d.current_url != first_url and "/item/" in d.current_url and d.current_url,
    )  # read before the next save: the page may move on before a later read
    wait_for(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    body = browser.find_element(By.TAG_NAME, "body")  # the new page's keys are listened to now
    body.send_keys("0")  # no concept
    body.send_keys(Keys.ENTER)
    wait_for(browser, lambda d: d.current_url != second_url)
    browser.get(first_url)  # back, as after a reload
    browser.refresh()
    saved = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#my-labels .my-label"))
    assert saved[0].text.startswith(evil)  # shown as typed, i.e. escaped
    assert browser.find_element(By.ID, "concept").get_attribute("value") == evil
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018  (an executed script would have opened one)
    browser.get(second_url)
    assert browser.find_element(By.ID, "no-concept").is_selected()
    browser.find_element(By.TAG_NAME, "body").send_keys("p")  # previous
    wait_for(browser, lambda d: d.current_url == first_url)
    store = CampaignStore.open(db)
    assert store.status()["labels"] == 2
    store.close()
    severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert not severe, severe
