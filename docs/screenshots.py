"""Take the README screenshots at phone width: start page, a question page with errors, results
(routine, P1, and emergency, P3) as the first screen shows them, and page 1 of a summary.

Run with `make screenshots`: the real app under gunicorn, Debian's headless Chromium, pdftoppm.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.app_server import gunicorn
from tests.browser.browser_flow import CHROMIUM
from tests.browser.browser_flow import CHROMIUM_ARGS
from tests.browser.browser_flow import complete_flow
from tests.browser.browser_flow import download_pdf
from tests.browser.browser_flow import load_case
from tests.browser.browser_flow import start

OUT = Path(__file__).parent / "screenshots"
PHONE = {"width": 390, "height": 844}


def main() -> None:
    """Capture the pages a person sees on a phone-sized screen, and page 1 of a summary."""
    OUT.mkdir(exist_ok=True)
    with gunicorn(workers=1) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=PHONE).new_page()
        page.goto(server.base_url + "/")
        page.screenshot(path=str(OUT / "start.png"), full_page=True)
        start(page, server.base_url)
        page.locator("form button[type=submit], form input[type=submit]").last.click()
        page.wait_for_load_state()
        page.screenshot(path=str(OUT / "question-error.png"))
        page = browser.new_context(viewport=PHONE).new_page()
        complete_flow(page, server.base_url, load_case("p1_emma"))
        page.screenshot(path=str(OUT / "results-routine.png"))
        page = browser.new_context(viewport=PHONE, accept_downloads=True).new_page()
        complete_flow(page, server.base_url, load_case("p3_linda"))
        page.screenshot(path=str(OUT / "results-emergency.png"))
        _, pdfs = download_pdf(page)
        pdfs_by_name = {"p3": pdfs}
        # P1 too: a calm case, so the README shows page 1 both with and without alarm features.
        page = browser.new_context(viewport=PHONE, accept_downloads=True).new_page()
        complete_flow(page, server.base_url, load_case("p1_emma"))
        _, pdfs_by_name["p1"] = download_pdf(page)
        browser.close()
    with tempfile.TemporaryDirectory() as tmp:
        for name, pdf in pdfs_by_name.items():
            pdf_path = Path(tmp) / f"summary-{name}.pdf"
            pdf_path.write_bytes(pdf)
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "60",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(pdf_path),
                    str(OUT / f"summary-page1-{name}"),
                ],
                check=True,
            )
    print(f"Screenshots written to {OUT}")


if __name__ == "__main__":
    main()
