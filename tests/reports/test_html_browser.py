"""The HTML report opened in headless Chromium (Debian's, driven by Playwright): it renders its
sections and inline SVG charts, shows untrusted names as text, asks the network for nothing, and
prints; a screenshot is saved in artifacts/ for CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.reports.figures import Report
from bot.reports.render import render
from tests.reports.month_fixture import ACME

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)


def test_the_html_report_renders_offline_escaped_and_printable(
    report: Report, tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    page_file = tmp_path / "report.html"
    page_file.write_text(render(report, "html"), encoding="utf-8")
    requested: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            page.on("request", lambda request: requested.append(request.url))
            # Anything but the file itself is refused, so a regression cannot reach out.
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith(("file:", "data:"))
                    else route.abort()
                ),
            )
            page.goto(page_file.as_uri(), wait_until="load")

            headings = page.locator("h2").all_inner_texts()
            assert headings == ["Overall", ACME, "Globex", "No client"]
            assert page.locator("h2 b").count() == 0  # the name's <b> is text, not markup
            assert page.locator("script").count() == 0
            assert page.locator("section svg").count() == 8  # priority and source per section
            assert page.locator("svg").count() == 9  # and tickets by client
            acme = page.locator("section").nth(1).inner_text()
            assert "Tickets opened\t5 (1 cancelled)" in acme
            assert "Resolve, mean / p90\t2h 50m / 3h 30m (n=3)" in acme
            bar = page.locator("section").first.locator("svg rect").first.bounding_box()
            assert bar is not None and bar["width"] > 0

            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000

            page.emulate_media(media="print")
            charts = page.locator(".charts").first.evaluate("e => getComputedStyle(e).display")
            assert charts == "block"
            pdf = page.pdf(format="A4")
            assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
        finally:
            browser.close()
    assert requested, "the page was never requested"
    offline = [u for u in requested if not u.startswith(("file:", "data:"))]
    assert offline == [], f"the report fetched {offline}"
    assert os.path.basename(requested[0]) == "report.html"
