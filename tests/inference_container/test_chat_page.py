"""The chat page in a real headless Chromium against the real server on the tiny model, with an API key."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from devtools.benchmarks import servers
from devtools.tiny_model import TinyModelPaths

pytestmark = pytest.mark.slow

API_KEY = "page-test-key"
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
CHROMEDRIVER = shutil.which("chromedriver")

SLOW_MAX_TOKENS = 480

# Runs before the page's own scripts: remembers what each chat request sent, and slows the reply of a
# request for SLOW_MAX_TOKENS tokens to one chunk per 100 ms so that Stop reliably lands mid-stream.
RECORD_REQUESTS = """
window.__sent = [];
const originalFetch = window.fetch.bind(window);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
window.fetch = async (url, options = {}) => {
  if (!String(url).includes("/v1/chat/completions")) return originalFetch(url, options);
  const body = JSON.parse(options.body);
  window.__sent.push({ body, headers: options.headers });
  const response = await originalFetch(url, options);
  if (body.max_tokens !== SLOW_MAX_TOKENS) return response;
  const slowed = response.body.pipeThrough(new TransformStream({
    async transform(chunk, controller) { await sleep(100); controller.enqueue(chunk); },
  }));
  return new Response(slowed, { status: response.status, headers: response.headers });
};
""".replace("SLOW_MAX_TOKENS", str(SLOW_MAX_TOKENS))


@pytest.fixture(scope="module")
def server_url(tiny_share: TinyModelPaths) -> Iterator[str]:
    """Our server on the tiny model and adapter, API key required."""
    command = servers.ours(tiny_share.base_dir, tiny_share.adapter_dir, API_KEY, None, {"CUDA_VISIBLE_DEVICES": ""})
    with servers.serve("chat-page", command, ready_timeout=180) as running:
        yield running.base_url


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """Headless Chromium driven by Debian's chromedriver (devtools/scripts/install-system-deps.sh installs both)."""
    if not CHROMIUM or not CHROMEDRIVER:  # a missing browser fails the test: it must not pass unseen
        pytest.fail("chromium/chromedriver missing: run devtools/scripts/install-system-deps.sh (make test does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_REQUESTS})
    try:
        yield driver
    finally:
        driver.quit()


def _send_and_wait(driver: WebDriver, text: str, assistant_count: int) -> None:
    prompt = driver.find_element(By.ID, "prompt")
    prompt.send_keys(text)
    driver.find_element(By.ID, "send").click()
    wait = WebDriverWait(driver, 60)
    wait.until(lambda d: d.find_element(By.ID, "composer").get_attribute("data-state") == "streaming"
               or len(d.find_elements(By.CSS_SELECTOR, ".msg.assistant")) == assistant_count)
    wait.until(lambda d: d.find_element(By.ID, "composer").get_attribute("data-state") == "idle")
    assert len(driver.find_elements(By.CSS_SELECTOR, ".msg.assistant")) == assistant_count


def _open_with_key(driver: WebDriver, server_url: str) -> None:
    driver.get(f"{server_url}/")
    driver.find_element(By.ID, "api-key").send_keys(API_KEY, Keys.TAB)
    WebDriverWait(driver, 30).until(
        lambda d: Select(d.find_element(By.ID, "model")).first_selected_option.get_attribute("value"))


def _set_temperature(driver: WebDriver, value: float) -> None:
    slider = driver.find_element(By.ID, "temperature")
    driver.execute_script("arguments[0].value = arguments[1];"
                          "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", slider, str(value))
    assert driver.find_element(By.ID, "temperature-value").text == str(value)


def _set_max_tokens(driver: WebDriver, value: int) -> None:
    field = driver.find_element(By.ID, "max-tokens")
    field.clear()
    field.send_keys(str(value))


def _error(driver: WebDriver) -> WebElement:
    return driver.find_element(By.ID, "error")


def _transcript(driver: WebDriver) -> list[tuple[str, str]]:
    items = driver.find_elements(By.CSS_SELECTOR, "#transcript > li")
    content = [i.find_element(By.CSS_SELECTOR, ".content").get_attribute("textContent") for i in items]
    return [(str(i.get_attribute("data-role")), str(c)) for i, c in zip(items, content, strict=True)]


def test_two_turn_streamed_chat_with_api_key(server_url: str, browser: WebDriver, tmp_path: Path) -> None:
    """Without a key the page shows the server's error; with it, two streamed turns keep their history."""
    browser.get(f"{server_url}/")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: _error(d).is_displayed())  # looked up each time: never a reference to a replaced node
    assert "401" in _error(browser).text and "API key" in _error(browser).text

    key = browser.find_element(By.ID, "api-key")
    key.send_keys(API_KEY, Keys.TAB)
    wait.until(lambda d: Select(d.find_element(By.ID, "model")).first_selected_option.get_attribute("value"))
    assert Select(browser.find_element(By.ID, "model")).first_selected_option.get_attribute("value") \
        == "tiny-chat-adapter"
    assert not _error(browser).is_displayed()
    assert browser.execute_script("return sessionStorage.getItem('inference.apiKey')") == API_KEY

    browser.find_element(By.ID, "system-prompt").send_keys("You answer briefly.")
    _set_max_tokens(browser, 24)
    _set_temperature(browser, 0)  # greedy: a sampled reply from random weights may be an immediate end of turn
    _send_and_wait(browser, "Hello! What is the capital of France?", 1)
    _send_and_wait(browser, "And how is the adapter merged?", 2)

    transcript = _transcript(browser)
    assert [role for role, _ in transcript] == ["user", "assistant", "user", "assistant"]
    assert all(content.strip() for _, content in transcript), transcript
    assert not _error(browser).is_displayed(), _error(browser).text
    assert "completion tokens" in browser.find_element(By.ID, "stats").text

    sent = browser.execute_script("return window.__sent")
    assert len(sent) == 2
    second = sent[1]["body"]
    assert second["stream"] is True and second["max_tokens"] == 24 and second["model"] == "tiny-chat-adapter"
    assert second["temperature"] == 0
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user"]
    assert second["messages"][2]["content"] == transcript[1][1]
    assert sent[1]["headers"]["Authorization"] == f"Bearer {API_KEY}"

    shot = Path(os.environ.get("CHAT_PAGE_SCREENSHOT", tmp_path / "chat-page.png"))
    assert browser.save_screenshot(str(shot)), f"no screenshot written to {shot}"


def test_stop_ends_the_stream_and_clear_forgets_the_history(server_url: str, browser: WebDriver) -> None:
    """Stop aborts a reply mid-stream (the page is usable again); after Clear, no earlier turn is sent."""
    _open_with_key(browser, server_url)
    _set_max_tokens(browser, SLOW_MAX_TOKENS)
    browser.find_element(By.ID, "prompt").send_keys("Count from one to ten, slowly.")
    browser.find_element(By.ID, "send").click()
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".msg.assistant .content").get_attribute("textContent"))
    browser.find_element(By.ID, "stop").click()
    wait.until(lambda d: d.find_element(By.ID, "composer").get_attribute("data-state") == "idle")
    assistant = browser.find_element(By.CSS_SELECTOR, ".msg.assistant")
    assert "Stopped." in assistant.text
    assert not browser.find_element(By.ID, "error").is_displayed()
    assert not browser.find_element(By.ID, "send").get_attribute("disabled")

    browser.find_element(By.ID, "clear").click()
    assert _transcript(browser) == []
    _set_max_tokens(browser, 8)
    _send_and_wait(browser, "A fresh start.", 1)
    sent = browser.execute_script("return window.__sent")
    assert [m["role"] for m in sent[-1]["body"]["messages"]] == ["user"]
    assert sent[-1]["body"]["messages"][0]["content"] == "A fresh start."


def test_compare_streams_the_fine_tune_and_the_base_side_by_side(server_url: str, browser: WebDriver) -> None:
    """One prompt, two labelled panes (fine-tune and base, same greedy settings), each equal to the API's reply."""
    _open_with_key(browser, server_url)
    _set_max_tokens(browser, 12)
    _set_temperature(browser, 0)
    browser.find_element(By.ID, "seed").send_keys("7")
    compare = browser.find_element(By.ID, "compare")
    compare.send_keys(Keys.SPACE)  # a keyboard user can switch it on
    assert compare.is_selected()
    browser.find_element(By.ID, "prompt").send_keys("Name a colour.", Keys.ENTER)
    wait = WebDriverWait(browser, 60)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".msg.compare .pane")) == 2
               and d.find_element(By.ID, "composer").get_attribute("data-state") == "idle")
    assert not _error(browser).is_displayed(), _error(browser).text

    panes = browser.find_elements(By.CSS_SELECTOR, ".msg.compare .pane")
    shown = {str(p.get_attribute("data-model")): (p.find_element(By.CSS_SELECTOR, "h3").text,
                                                  str(p.find_element(By.CSS_SELECTOR, ".content")
                                                      .get_attribute("textContent")))
             for p in panes}
    assert set(shown) == {"tiny-chat-adapter", "tiny-chat"}
    assert shown["tiny-chat-adapter"][0] == "tiny-chat-adapter · version tiny-chat-adapter"
    assert shown["tiny-chat"][0] == "tiny-chat · version base"
    for pane in panes:  # each pane is a region named by its label
        title = pane.find_element(By.CSS_SELECTOR, "h3")
        assert pane.get_attribute("aria-labelledby") == title.get_attribute("id")

    sent = browser.execute_script("return window.__sent")
    assert sorted(s["body"]["model"] for s in sent) == ["tiny-chat", "tiny-chat-adapter"]
    for request in sent:
        body = request["body"]
        assert body["temperature"] == 0 and body["max_tokens"] == 12 and body["seed"] == 7
        assert body["messages"] == [{"role": "user", "content": "Name a colour."}]
        whole = httpx.post(f"{server_url}/v1/chat/completions", json={**body, "stream": False, "stream_options": None},
                           headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60)
        assert whole.status_code == 200, whole.text
        text = whole.json()["choices"][0]["message"]["content"]
        assert text.strip() and shown[body["model"]][1] == text, (body["model"], shown, text)
    assert shown["tiny-chat-adapter"][1] != shown["tiny-chat"][1]  # two models, two replies
