"""The report in a real headless Chromium: no console error, no request outside the file, a screenshot a page.

Debian's `chromium` package (`.ci/run` installs it with apt) driven by Playwright pointed at that
executable: Playwright's own browser downloads are not reachable here. Without a browser the tests skip
saying so; under CI=true a missing browser fails the run. Screenshots go to $REPORT_SCREENSHOTS when set
(CI keeps them as artefacts), else to the test's temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.demo_staging import DemoReport
from tests.prerequisites import missing

CHROMIUM = (
    "/usr/bin/chromium"  # Debian's package; REPORT_CHROMIUM names another (tests of the skip rule use it)
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = ["events", "outcomes", "submissions", "ccr-outcomes", "ccr-submissions", "evaluation", "quality"]
LOCAL_SCHEMES = ("file:", "data:")
TIMEOUT_MS = 120_000  # two shared cores under load: a generous bound on launching and loading, not a target


def _missing_browser(reason: str) -> NoReturn:
    missing(f"{reason}: install it with `apt-get install -y chromium` (and `pip install playwright`)")


def chromium_executable() -> str:
    """The browser to drive, or a skip (a developer's machine) / failure (CI=true) saying how to get one."""
    executable = os.environ.get("REPORT_CHROMIUM") or (CHROMIUM if Path(CHROMIUM).is_file() else None)
    executable = executable or shutil.which("chromium") or CHROMIUM
    if not Path(executable).is_file():
        _missing_browser(f"no Chromium at {executable}")
    return executable


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing_browser("Playwright is not installed")
    executable = chromium_executable()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Visit:
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    screenshots: dict[str, Path] = field(default_factory=dict)
    visible: dict[str, list[str]] = field(default_factory=dict)
    word_cloud_width: int = 0


def visit(browser: Any, report: Path, shots: Path) -> Visit:
    """Open each page of the report, routing every request: anything not file: or data: is refused."""
    seen = Visit()
    context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda message: message.type == "error" and seen.console_errors.append(message.text))
    page.on("pageerror", lambda error: seen.console_errors.append(str(error)))

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(LOCAL_SCHEMES):
            request_route.continue_()
        else:
            seen.outside_requests.append(url)
            request_route.abort()

    context.route("**/*", route)
    shots.mkdir(parents=True, exist_ok=True)
    try:
        for anchor in PAGES:
            page.goto(f"{report.as_uri()}#{anchor}", wait_until="load")
            seen.visible[anchor] = [name for name in PAGES if page.locator(f"section#{name}").is_visible()]
            seen.screenshots[anchor] = shots / f"{anchor}.png"
            page.screenshot(path=str(seen.screenshots[anchor]), full_page=True)
            if anchor == "outcomes":
                seen.word_cloud_width = int(
                    page.evaluate("document.querySelector('#outcomes img').naturalWidth")
                )
    finally:
        context.close()
    return seen


def screenshot_dir(tmp_path: Path) -> Path:
    chosen = os.environ.get("REPORT_SCREENSHOTS")
    return Path(chosen) if chosen else tmp_path / "screenshots"


def test_the_report_opens_offline_without_errors_and_each_page_is_photographed(
    browser: Any, demo_report: DemoReport, tmp_path: Path
) -> None:
    seen = visit(browser, demo_report.result.path, screenshot_dir(tmp_path))
    assert seen.console_errors == []
    assert seen.outside_requests == []
    assert seen.visible == {anchor: [anchor] for anchor in PAGES}  # each link shows its page alone
    assert seen.word_cloud_width > 0  # the embedded PNG decoded
    for path in seen.screenshots.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_the_watch_catches_a_report_that_reaches_out(
    browser: Any, demo_report: DemoReport, tmp_path: Path
) -> None:
    # The check above must be able to fail: the same report with one remote image and one script error.
    tampered = tmp_path / "tampered.html"
    html = demo_report.html.replace(
        "</main>", '<img src="https://tiles.example.invalid/0/0/0.png"><svg onload="missing()"></svg></main>'
    )
    tampered.write_text(html, encoding="utf-8")
    seen = visit(browser, tampered, tmp_path / "tampered-shots")
    assert seen.console_errors  # the policy refuses the image; the handler names an undefined function
    assert any("example.invalid" in text for text in seen.console_errors + seen.outside_requests)


@pytest.mark.parametrize(("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)])
def test_a_missing_browser_skips_with_a_message_but_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("REPORT_CHROMIUM", str(tmp_path / "no-chromium-here"))
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no Chromium at .*apt-get install -y chromium"):
        chromium_executable()
