"""The browser console under /_mock/console: what a test did to the mock, in pages.

One server with the runtime on runs a world of three containers: `web` (the sample app, public, with a secret and a
variable whose value is an XSS attempt), `broken` (its process exits at once: status error) and `vault` (private).
The first tests read the pages with `requests` and always run; the browser tests drive Debian's chromium in headless
mode through selenium and skip, with one line, where chromium, chromium-driver or selenium is missing. Screenshots
of every page go to .build/console-screenshots/ (not committed): look at them.
"""
from __future__ import annotations

import html
import http.server
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

import support

C1 = "/containers/v1/regions/fr-par"
CB = "/containers/v1beta1/regions/fr-par"
CONSOLE = "/_mock/console"
XSS = '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'
SECRET = "s3cr3t-value-7f2a"
CONSOLE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SCREENSHOTS = support.REPO_ROOT / ".build" / "console-screenshots"
# `web`: a tiny HTTP server on $PORT that prints every path it is asked for (so a call shows in its log).
WEB_APP = ("import http.server, os\n"
           "class H(http.server.BaseHTTPRequestHandler):\n"
           "    def do_GET(self):\n"
           "        print('served', self.path, flush=True)\n"
           "        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'ok')\n"
           "    def log_message(self, *args): pass\n"
           "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n")


@dataclass
class World:
    server: support.MockServer
    namespace: str
    web: str
    broken: str
    vault: str

    def page(self, path: str = "", **kw) -> requests.Response:
        return requests.get(self.server.url + CONSOLE + path, timeout=30, allow_redirects=False, **kw)

    def post(self, path: str, data: dict, **kw) -> requests.Response:
        return requests.post(self.server.url + CONSOLE + path, data=data, timeout=30, allow_redirects=False, **kw)

    def container(self, cid: str) -> dict:
        return self.server.get(f"{C1}/containers/{cid}").json()


def _container(server: support.MockServer, ns: str, name: str, **body) -> str:
    r = server.post(f"{C1}/containers", {"namespace_id": ns, "name": name, "image": "sample:latest", **body})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def _settled(world: World, cid: str) -> dict:
    return support.wait_until(lambda: (c := world.container(cid))["status"] in ("ready", "error") and c, 30)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    workdir = tmp_path_factory.mktemp("console")
    server = support.MockServer(db_path=workdir / "state.sqlite", seed_paths=[support.write_seed(workdir)], workdir=workdir,
                                runtime=True, key_pool=4, extra_args=["--ready-timeout", "10"]).start()
    try:
        ns = server.create_ns("c1", {"name": "console-demo"})["id"]
        server.wait_ready("c1", ns)
        web = _container(server, ns, "web", command=[sys.executable, "-c", WEB_APP], environment_variables={"GREETING": XSS},
                         secret_environment_variables={"API_SECRET": SECRET})
        broken = _container(server, ns, "broken", command=["sh", "-c", "echo boom-on-stderr >&2; exit 3"])
        vault = _container(server, ns, "vault", privacy="private")
        w = World(server, ns, web, broken, vault)
        assert _settled(w, web)["status"] == "ready"
        assert _settled(w, broken)["status"] == "error"
        assert _settled(w, vault)["status"] == "ready"
        yield w
    finally:
        assert server.stop() == 0, server.stderr_tail()


# --- pages over plain HTTP (always run) -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "/requests", "/tokens", "/requests?failing=1&method=GET"])
def test_every_page_is_html_with_the_console_csp(world, path):
    r = world.page(path)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Content-Security-Policy"] == CONSOLE_CSP
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["Cache-Control"] == "no-store"
    assert "<script>" not in r.text.replace('<script src="/_mock/console/assets/console.js" defer></script>', "")


def test_overview_shows_each_container_with_its_status_and_error(world):
    body = world.page().text
    for cid in (world.web, world.broken, world.vault):
        assert f'href="/_mock/console/apps/{cid}"' in body
    broken = body[body.index(f'id="app-{world.broken}"'):]
    broken = broken[: broken.index("</tr>")]
    assert 'status-error">error<' in broken and "exited with code 3" in broken
    assert "private" in body[body.index(f'id="app-{world.vault}"'):][:2000]
    assert "transition delay" in body and "runtime" in body


def test_an_application_page_escapes_user_values_and_masks_secrets(world):
    body = world.page(f"/apps/{world.web}").text
    # The XSS attempt is shown, as text: never as a tag.
    assert XSS not in body and "<img src=x" not in body
    assert html.escape(XSS, quote=True).replace("&#x27;", "&#39;") in body
    # The process received the secret; the page carries it folded away, masked until opened.
    masked = body[body.index('<td class="mono">API_SECRET</td>'):]
    masked = masked[: masked.index("</tr>")]
    assert "<details" in masked and "••••••••" in masked and SECRET in masked
    assert 'id="process-state">running<' in body
    assert re.search(r'<dt>pid</dt><dd id="process-pid">\d+</dd>', body)
    # Settings as the API returns them (v1): the secret only as its Argon2id hash.
    settings = html.unescape(body[body.index('<pre id="settings">'):].split("</pre>")[0])
    assert '"secret_environment_variables"' in settings and "$argon2id$" in settings and SECRET not in settings


def test_a_failing_application_shows_why_and_what_it_printed(world):
    body = world.page(f"/apps/{world.broken}").text
    assert "boom-on-stderr" in body and 'class="stderr"' in body
    assert "exited with code 3" in body


def test_a_function_shows_with_its_own_apis_words(world):
    fn = "/functions/v1beta1/regions/fr-par"
    ns = world.server.post(f"{fn}/namespaces", {"name": "console-functions"}).json()["id"]
    world.server.wait_ready("fn", ns)
    fid = world.server.post(f"{fn}/functions", {"namespace_id": ns, "name": "no-code", "runtime": "python311"}).json()["id"]
    assert world.server.post(f"{fn}/functions/{fid}/deploy", {}).status_code == 200
    assert support.wait_until(lambda: world.server.get(f"{fn}/functions/{fid}").json()["status"] == "error", 30)
    overview = world.page().text
    row = overview[overview.index(f'id="app-{fid}"'):]
    row = row[: row.index("</tr>")]
    assert "<td>function</td>" in row and 'status-error">error<' in row and "internal error" in row
    page = world.page(f"/apps/{fid}").text
    assert "as Functions v1beta1 returns them" in page and "&quot;runtime&quot;: &quot;python311&quot;" in page


def test_the_requests_table_marks_failures_and_links_the_resource(world):
    missing = "00000000-0000-4000-8000-00000000dead"
    assert world.server.get(f"{C1}/containers/{missing}").status_code == 404
    world.server.get(f"{C1}/containers/{world.web}")
    body = world.page("/requests").text
    row = re.search(r'<tr class="failing">(?:(?!</tr>).)*' + missing + r"(?:(?!</tr>).)*</tr>", body, re.S)
    assert row, body[:3000]
    assert ">404<" in row.group(0)
    ok = re.search(r'<tr class="ok">(?:(?!</tr>).)*' + f"/containers/{world.web}" + r"(?:(?!</tr>).)*</tr>", body, re.S)
    assert ok and f'href="/_mock/console/apps/{world.web}"' in ok.group(0)
    # The filter is a plain GET form: failing calls only.
    failing = world.page("/requests", params={"failing": "1"}).text
    assert missing in failing and f"<td class=\"mono\">/containers/v1/regions/fr-par/containers/{world.web}</td>" not in failing


def _token(world: World, cid: str, description: str = "console test") -> str:
    r = world.server.post(f"{CB}/tokens", {"container_id": cid, "description": description})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def test_the_token_box_accepts_a_real_token_and_refuses_a_forged_one_with_the_reason(world):
    target = f"application:{world.namespace}:{world.vault}"
    valid = world.post("/tokens/verify", {"token": _token(world, world.vault), "target": target})
    assert valid.status_code == 200 and '<strong id="verdict">Valid</strong>' in valid.text
    assert '"application_id": "' + world.vault + '"' in valid.text.replace("&quot;", '"')
    assert re.search(r"<dt>iat</dt><dd><time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</time></dd>", valid.text)

    forged = world.server.post("/_mock/tokens/forge", {"kind": "expired", "container_id": world.vault}, token=None).json()["token"]
    refused = world.post("/tokens/verify", {"token": forged, "target": target})
    assert '<span id="verdict">token expired</span>' in refused.text
    tampered = world.post("/tokens/verify", {"token": _token(world, world.vault)[:-4] + "AAAA", "target": target})
    assert "bad signature: the token was not signed by this namespace" in tampered.text
    other = world.post("/tokens/verify", {"token": _token(world, world.web), "target": target})
    assert "token is for another container or function" in other.text


def test_the_tokens_page_lists_keys_and_tokens_with_scope_and_expiry(world):
    _token(world, world.web, description="<b>console</b> test")
    body = world.page("/tokens").text
    assert "-----BEGIN RSA PUBLIC KEY-----" in body and f"&quot;kid&quot;: &quot;{world.namespace}&quot;" in body
    row = body[body.index("&lt;b&gt;console&lt;/b&gt; test") - 600:][:1000]
    assert f'href="/_mock/console/apps/{world.web}"' in row and ">never<" in row and "<b>console" not in body


def test_actions_refuse_cross_site_posts_and_other_hosts(world):
    before = world.server.get("/_mock/clock", token=None).json()["offset_seconds"]
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Host": "rebind.attacker.example"}):
        r = world.post("/actions/clock", {"advance_seconds": "3600"}, headers=headers)
        assert r.status_code == 403, (headers, r.status_code, r.text)
    assert world.page("", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert world.server.get("/_mock/clock", token=None).json()["offset_seconds"] == before
    # The console's own page may post (same origin): the clock moves, and the answer sends the browser back.
    r = world.post("/actions/clock", {"advance_seconds": "60"}, headers={"Origin": world.server.url})
    assert r.status_code == 303 and r.headers["Location"] == "/_mock/console?done=clock"
    assert world.server.get("/_mock/clock", token=None).json()["offset_seconds"] >= before + 60


def test_with_a_control_token_the_console_asks_for_it_once(server_factory):
    token = "console-control-token-1"
    server = server_factory(extra_args=["--control-token", token], key_pool=2)
    url = server.url + CONSOLE
    refused = requests.get(url, timeout=30)
    assert refused.status_code == 401 and 'action="/_mock/console/session"' in refused.text
    assert requests.get(url, headers={"X-Mock-Token": token}, timeout=30).status_code == 200
    assert requests.post(url + "/session", data={"token": "wrong"}, timeout=30, allow_redirects=False).status_code == 401
    browser = requests.Session()
    signed_in = browser.post(url + "/session", data={"token": token}, timeout=30, allow_redirects=False)
    assert signed_in.status_code == 303
    cookie = signed_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/_mock/console" in cookie and token not in cookie
    assert browser.get(url + "/tokens", timeout=30).status_code == 200
    # The cookie opens the console only: the JSON routes still want the header.
    assert browser.get(server.url + "/_mock/state", timeout=30).status_code == 401


# --- in a real browser -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("browser tests skipped: selenium is not installed (pip install -r Tests/e2e/requirements.txt)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("browser tests skipped: Debian's chromium and chromium-driver are not installed (scripts/deps ci installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1366,900",
                "--host-resolver-rules=MAP evil.test 127.0.0.1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    from selenium.common.exceptions import WebDriverException

    try:
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    except WebDriverException as error:
        pytest.skip(f"browser tests skipped: chromium does not start here ({str(error).splitlines()[0]})")
    driver.set_page_load_timeout(30)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def _console_errors(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _open(driver, world: World, path: str, shot: str):
    driver.get_log("browser")  # forget what earlier pages logged
    driver.get(world.server.url + CONSOLE + path)
    support.wait_until(lambda: driver.execute_script("return document.readyState") == "complete", 10)
    driver.save_screenshot(str(SCREENSHOTS / f"{shot}.png"))


def _text(driver, element_id: str) -> str:
    """The element's text. The live page replaces its parts as events arrive: an element found just before it was
    replaced is stale, and is looked up again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for _ in range(50):
        try:
            return driver.find_element(By.ID, element_id).text
        except StaleElementReferenceException:
            time.sleep(0.02)
    return driver.find_element(By.ID, element_id).text


def test_browser_pages_load_without_console_errors(browser, world):
    for path, shot in (("", "overview"), (f"/apps/{world.web}", "app-running"), (f"/apps/{world.broken}", "app-failing"),
                       (f"/apps/{world.vault}", "app-private"), ("/requests", "requests"), ("/tokens", "tokens")):
        _open(browser, world, path, shot)
        assert _console_errors(browser) == [], (path, _console_errors(browser))
        assert browser.title.endswith("scw-mock console")


def test_browser_statuses_and_logs_follow_live(browser, world):
    from selenium.webdriver.common.by import By

    _open(browser, world, f"/apps/{world.web}", "app-live-before")
    assert support.wait_until(lambda: _text(browser, "live-state").endswith("live"), 10)
    assert _text(browser, "process-state") == "running"
    # A call through the gateway prints a line in the process's log; the open page shows it without a reload.
    marker = f"/console-live-{int(time.time() * 1000)}"
    assert requests.get(world.server.url + f"/_mock/invoke/{world.web}{marker}", timeout=30).status_code == 200
    assert support.wait_until(lambda: marker in _text(browser, "logs"), 15), _text(browser, "logs")[-2000:]
    # A crash from the page itself: the restarted process (a new pid) shows on the open page.
    crashed_pid = _text(browser, "process-pid")
    browser.find_element(By.CSS_SELECTOR, f'form[action="/_mock/console/apps/{world.web}/crash"] button').click()
    assert support.wait_until(lambda: "killed as a crash would" in browser.find_element(By.TAG_NAME, "main").text, 10)
    assert support.wait_until(lambda: "crash injected by /_mock" in _text(browser, "logs"), 15)
    assert support.wait_until(lambda: _text(browser, "process-pid") not in (crashed_pid, "—")
                              and _text(browser, "process-state") == "running", 30), _text(browser, "process")
    browser.save_screenshot(str(SCREENSHOTS / "app-live-after.png"))
    assert _console_errors(browser) == []


def test_browser_shows_the_xss_attempt_as_text_and_secrets_masked(browser, world):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    _open(browser, world, f"/apps/{world.web}", "app-xss")
    assert browser.title != "pwned"
    assert XSS in _text(browser, "environment")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    secret = browser.find_element(By.CSS_SELECTOR, "#environment details.secret")
    assert SECRET not in secret.text  # folded: the value is not displayed
    secret.find_element(By.TAG_NAME, "summary").click()
    assert SECRET in secret.text
    assert _console_errors(browser) == []


def test_browser_token_box(browser, world):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    target = f"application:{world.namespace}:{world.vault}"
    forged = world.server.post("/_mock/tokens/forge", {"kind": "tampered_signature", "container_id": world.vault},
                               token=None).json()["token"]
    for token, verdict, shot in ((_token(world, world.vault), "Valid", "token-valid"),
                                 (forged, "bad signature: the token was not signed by this namespace's key", "token-forged")):
        _open(browser, world, "/tokens", shot + "-form")
        browser.find_element(By.NAME, "token").send_keys(token)
        Select(browser.find_element(By.NAME, "target")).select_by_value(target)
        browser.find_element(By.CSS_SELECTOR, "form.verify button").click()
        assert support.wait_until(lambda: browser.find_elements(By.ID, "verdict"), 10)
        assert _text(browser, "verdict") == verdict
        browser.save_screenshot(str(SCREENSHOTS / f"{shot}.png"))
        assert _console_errors(browser) == []


class _AttackerPage(http.server.BaseHTTPRequestHandler):
    """A page on another site that posts the console's reset form as soon as it loads."""

    target = ""

    def do_GET(self):
        body = (f'<!doctype html><form id="f" method="post" action="{self.target}"><input name="advance_seconds" value="99999">'
                '</form><script>document.getElementById("f").submit()</script>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_browser_cross_site_post_to_an_action_is_refused(browser, world):
    _AttackerPage.target = world.server.url + CONSOLE + "/actions/clock"
    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AttackerPage)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        before = world.server.get("/_mock/clock", token=None).json()["offset_seconds"]
        browser.get(f"http://evil.test:{attacker.server_address[1]}/")
        assert support.wait_until(lambda: "cross-site request refused" in browser.page_source, 10), browser.page_source[:500]
        browser.save_screenshot(str(SCREENSHOTS / "cross-site-refused.png"))
        assert world.server.get("/_mock/clock", token=None).json()["offset_seconds"] == before
    finally:
        attacker.shutdown()
