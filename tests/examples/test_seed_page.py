"""The seed page (examples/seed-page/), built on the public API, in headless Chromium.

A real `masthead serve --examples` on a fresh SQLite database (demo content), mail to an SMTP
server of the test's own on loopback, Debian's `chromium` driven by Selenium through
`chromium-driver` (installed with apt-get when missing). Runs only with MASTHEAD_BROWSER=1
(`make browser`); the normal suite leaves it out. The tests share one server and one browser
and run in file order: the refused sign-up comes before the accepted one.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from tests.subscriptions.conftest import Inbox

pytestmark = pytest.mark.skipif(
    os.environ.get("MASTHEAD_BROWSER") != "1",
    reason="browser test: runs only with MASTHEAD_BROWSER=1 (make browser)",
)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "examples" / "seed-page" / "screenshot.png"
MASTHEAD = Path(sys.executable).with_name("masthead")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 20.0  # bound on every wait for the page or the server; never a timing threshold
TICKED = "reader@example.org"
UNTICKED = "careless@example.org"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ensure_chromium() -> None:
    """Install Debian's chromium and chromium-driver when missing; skip when that cannot be."""
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("chromium/chromium-driver missing and apt-get cannot install them here")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
    for attempt in (install, ["apt-get", "update", "-q"], install):
        done = subprocess.run(
            [*attempt, *(["chromium", "chromium-driver"] if attempt is install else [])],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode == 0 and attempt is install:
            break
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"apt-get could not install chromium chromium-driver: {done.stderr[-500:]}")


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.url = f"smtp://127.0.0.1:{controller.port}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def server_env(tmp_path_factory: pytest.TempPathFactory, inbox: Inbox) -> dict[str, str]:
    workdir = tmp_path_factory.mktemp("seed-page")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
    return env | {
        "MASTHEAD_DATABASE_URL": f"sqlite:///{workdir / 'masthead.db'}",
        "MASTHEAD_SMTP_URL": inbox.url,  # type: ignore[attr-defined]
        "MASTHEAD_OUTBOX_POLL_SECONDS": "0.2",
        "MASTHEAD_WEBHOOK_WORKER": "false",
        "MASTHEAD_ENVIRONMENT": "development",
    }


@pytest.fixture(scope="module")
def base(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`masthead serve --examples` on a free port, with the demo content; its base URL."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("serve-log") / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(MASTHEAD), "serve", "--examples", "--port", str(port)],
            cwd=ROOT,
            env=server_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def browser(base: str) -> Iterator[Any]:
    ensure_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in CI
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--lang=en-GB",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.requests = []  # every URL the page asked for, gathered from the performance log
    driver.console = []
    try:
        yield driver
    finally:
        driver.quit()


def drain_logs(driver: Any) -> None:
    """Move the browser's logs gathered so far onto the driver (reading them empties them)."""
    for entry in driver.get_log("performance"):
        message = orjson.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            driver.requests.append(message["params"]["request"]["url"])
    driver.console.extend(driver.get_log("browser"))


def open_page(driver: Any, url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, WAIT).until(
        lambda d: d.execute_script("return document.body.dataset.ready === 'true'")
    )
    drain_logs(driver)


def wait_for(driver: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(
        expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css))
    )


def texts(driver: Any, css: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def attributes(driver: Any, css: str, name: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.get_attribute(name) for e in driver.find_elements(By.CSS_SELECTOR, css)]


@pytest.fixture(scope="module")
def admin(base: str, server_env: dict[str, str]) -> dict[str, str]:
    """Headers for the admin API, with a token made by the CLI on the server's database."""
    made = subprocess.run(
        [str(MASTHEAD), "tokens", "create", "--name", "browser-test", "--role", "admin"],
        env=server_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}


@pytest.fixture(scope="module")
def privacy_policy(base: str, admin: dict[str, str]) -> dict[str, Any]:
    """The published privacy-policy page the consent box links to (made when the demo
    content has none)."""
    found = httpx.get(f"{base}/v1/pages/privacy-policy")
    if found.status_code == 404:
        made = httpx.post(
            f"{base}/v1/admin/pages",
            json={
                "slug": "privacy-policy",
                "title": "Privacy Policy",
                "body_markdown": "We keep your email address to send you the newsletter.",
            },
            headers=admin,
        )
        assert made.status_code == 201, made.text
        published = httpx.post(
            f"{base}/v1/admin/pages/{made.json()['data']['id']}/publish", headers=admin
        )
        assert published.status_code == 200, published.text
        found = httpx.get(f"{base}/v1/pages/privacy-policy")
    assert found.status_code == 200, found.text
    return dict(found.json()["data"])


@pytest.fixture(scope="module")
def article(base: str, privacy_policy: dict[str, Any]) -> dict[str, Any]:
    """The demo article as the API answers it."""
    newest = httpx.get(f"{base}/v1/articles?limit=1&fields=slug").json()["data"][0]
    return dict(httpx.get(f"{base}/v1/articles/{newest['slug']}").json()["data"])


def page_url(base: str) -> str:
    return f"{base}/examples/seed-page/"


def sign_up(driver: Any, address: str, *, tick: bool) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    email = driver.find_element(By.ID, "signup-email")
    email.clear()
    email.send_keys(address)
    box = driver.find_element(By.ID, "signup-consent")
    if box.is_selected() != tick:
        box.click()
    driver.find_element(By.ID, "signup-submit").click()
    status = driver.find_element(By.ID, "signup-status")
    WebDriverWait(driver, WAIT).until(lambda _d: status.text.strip() != "")
    drain_logs(driver)
    return str(status.text)


def test_the_page_renders_the_seed_article_from_the_api(browser, base, article):
    open_page(browser, page_url(base))
    assert texts(browser, "article.article h1.title") == [article["title"]]
    assert len(texts(browser, ".body p")) >= 3
    assert texts(browser, "#signup-heading")[0].startswith(
        "Sign Up to receive the latest updates from"
    )
    assert "Accidentally Alex" in texts(browser, "#signup-heading")[0]
    assert attributes(browser, "#signup-consent", "type") == ["checkbox"]
    assert texts(browser, "#privacy-policy-link") == ["Privacy Policy"]

    # Three hashtags, each linking to its tag page.
    assert len(article["tags"]) == 3
    assert texts(browser, ".hashtags a") == [t["hashtag"] for t in article["tags"]]
    assert [urlsplit(h).query for h in attributes(browser, ".hashtags a", "href")] == [
        f"tag={t['slug']}" for t in article["tags"]
    ]

    # Every citation, numbered in order, linking to the page cited (or the source).
    citations = article["sources"]
    assert len(citations) >= 10
    assert attributes(browser, "ol.references > li", "id") == [
        f"ref-{n}" for n in range(1, len(citations) + 1)
    ]
    assert attributes(browser, "ol.references > li > a", "href") == [
        c["cited_url"] or c["source"]["url"] for c in citations
    ]
    assert texts(browser, "ol.references > li > a") == [c["source"]["name"] for c in citations]

    # Both calls to action, through the tracked redirect.
    kinds = {a["kind"]: a for a in article["actions"]}
    assert set(kinds) == {"petition", "donation"}
    for kind, action in kinds.items():
        assert attributes(browser, f"a.action-{kind}", "href") == [action["go_url"]]
        assert texts(browser, f"a.action-{kind}") == [action["title"]]
        assert urlsplit(action["go_url"]).netloc == urlsplit(base).netloc

    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(int(height) + 40, 12_000))
    browser.save_screenshot(str(SCREENSHOT))
    browser.set_window_size(1280, 900)
    assert SCREENSHOT.stat().st_size > 10_000


def test_the_privacy_policy_link_opens_the_policy(browser, base, privacy_policy):
    from selenium.webdriver.common.by import By

    open_page(browser, page_url(base))
    browser.find_element(By.ID, "privacy-policy-link").click()
    wait_for(browser, "article.page h1")
    assert texts(browser, "article.page h1") == [privacy_policy["title"]]
    assert "newsletter" in texts(browser, "article.page .body")[0]
    drain_logs(browser)


def test_a_hashtag_opens_its_tag_page(browser, base, article):
    from selenium.webdriver.common.by import By

    open_page(browser, page_url(base))
    first = article["tags"][0]
    browser.find_element(By.CSS_SELECTOR, ".hashtags a").click()
    wait_for(browser, ".tag-page h1")
    assert texts(browser, ".tag-page h1") == [first["hashtag"]]
    assert texts(browser, ".tag-page .article-list a") == [article["title"]]
    drain_logs(browser)


def test_a_sign_up_without_consent_shows_the_apis_error(browser, base, inbox):
    open_page(browser, page_url(base))
    said = sign_up(browser, UNTICKED, tick=False)
    refused = httpx.post(
        f"{base}/v1/subscriptions",
        json={"email": UNTICKED, "consent": False, "policy_version": "1", "source": "/x"},
    )
    assert refused.status_code == 422
    for reason in refused.json()["errors"]:
        assert reason["msg"] in said
    assert "Thanks" not in said
    assert attributes(browser, "#signup-status", "class") == ["status status-error"]


def test_a_sign_up_with_consent_thanks_and_sends_one_confirmation(
    browser, base, inbox, admin, privacy_policy
):
    open_page(browser, page_url(base))
    said = sign_up(browser, TICKED, tick=True)
    assert said.startswith("Thanks for signing up!")
    assert attributes(browser, "#signup-status", "class") == ["status status-thanks"]

    messages: list[EmailMessage] = inbox.wait_for(1, timeout=WAIT)
    assert [m["To"] for m in messages] == [TICKED]
    assert inbox.recipients == [[TICKED]]
    assert "/v1/subscriptions/confirm?token=" in messages[0].get_content()  # type: ignore[no-untyped-call]
    # The refused sign-up stored nothing (the outbox sends in order, so its mail, had there
    # been one, would have come first): one subscriber, the ticked one.
    subscribers = httpx.get(f"{base}/v1/admin/subscribers", headers=admin).json()["data"]
    assert [s["email"] for s in subscribers] == [TICKED]
    # The consent names the version of the policy the box linked to.
    consents = subscribers[0]["consents"]
    assert [c["policy_version"] for c in consents] == [privacy_policy["updated_at"]]


def test_the_browser_asked_only_masthead(browser, base):
    drain_logs(browser)
    hosts = {urlsplit(url).netloc for url in browser.requests if not url.startswith("data:")}
    assert hosts == {urlsplit(base).netloc}, sorted(browser.requests)
    paths = {urlsplit(url).path for url in browser.requests}
    assert {
        "/examples/seed-page/",
        "/examples/seed-page/seed-page.js",
        "/examples/seed-page/seed-page.css",
        "/v1/subscriptions",
    } <= paths
    assert any(p.startswith("/v1/articles/") for p in paths)
    # Nothing was refused by the page's content security policy, nothing failed to load.
    severe = [e for e in browser.console if e["level"] == "SEVERE"]
    unexpected = [e for e in severe if "/v1/subscriptions" not in e["message"]]
    assert not unexpected, unexpected
