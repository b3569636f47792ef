"""The dashboard in a real browser (Playwright driving Debian's Chromium) on `demo --serve`.

A person's path through it: log in with the printed password, open the demo deal's trace, see a
company that cannot become a counterparty land in the dead letters, fill in its tax code in the
CRM, press Retry, and see the job done. The overview is saved as docs/dashboard.png (README).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from crmbridge.taxcodes import with_edrpou_check
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "docs" / "dashboard.png"
COMPANY = 7  # the seed's «Прайм Консалт»: no requisites, so no tax code


@dataclass(frozen=True)
class Demo:
    dashboard: str
    password: str
    sandbox: str


def _lines(stream: object, sink: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.put(line)


@pytest.fixture
def demo() -> Iterator[Demo]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmbridge", "demo", "--serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []

    def printed_urls() -> bool:
        while not lines.empty():
            seen.append(lines.get())
        return any("Ctrl+C to stop" in line for line in seen) or proc.poll() is not None

    try:
        wait_for(printed_urls, timeout=240, what="demo --serve to print its URLs")
        text = "".join(seen)
        found = re.search(r"dashboard: (\S+)/\s+\(user: admin\s+password: (\S+)\)", text)
        sandbox = re.search(r"CRM deals: (\S+)/bitrix24/", text)
        assert found and sandbox, text
        yield Demo(found[1], found[2], sandbox[1])
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)  # the pipe is at its end once the process is gone
        assert proc.stdout is not None
        proc.stdout.close()


def crm(demo: Demo, method: str, params: dict[str, object]) -> object:
    url = f"{demo.sandbox}/bitrix24/rest/1/sandbox/{method}.json"
    answer = httpx.post(url, json=params, timeout=30)
    answer.raise_for_status()
    return answer.json()["result"]


def dead_letter_listed(page: Page, url: str) -> bool:
    page.goto(url)
    return page.get_by_text(f"company {COMPANY} «Прайм Консалт» has no RQ_EDRPOU").count() > 0


def test_log_in_trace_the_deal_and_retry_a_dead_letter(demo: Demo) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            response = page.goto(demo.dashboard + "/")
            assert response is not None and response.status == 401  # the login form
            page.get_by_label("User").fill("admin")
            page.get_by_label("Password").fill(demo.password)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="Overview")).to_be_visible()

            # The demo deal's trace, from the overview's trace box.
            page.get_by_placeholder("id, invoice number or ЄДРПОУ").fill("1")
            page.get_by_role("button", name="Trace").click()
            expect(page.get_by_role("heading", name="Trace deal 1")).to_be_visible()
            expect(page.get_by_text("issue_invoice: create invoice")).to_be_visible()
            expect(page.get_by_text("payments: move to paid stage")).to_be_visible()

            # A company without a tax code changes in the CRM: its job dies.
            crm(demo, "crm.company.update", {"id": COMPANY, "fields": {"COMMENTS": "call back"}})
            dead = demo.dashboard + "/dead"
            wait_for(lambda: dead_letter_listed(page, dead), timeout=60, what="the dead letter")
            row = page.get_by_role("row").filter(has_text=f"company:{COMPANY}")
            job_id = row.get_by_role("link").first.inner_text()

            # Someone fills in the tax code, then presses Retry.
            requisite = {"ENTITY_TYPE_ID": 4, "ENTITY_ID": COMPANY, "PRESET_ID": 1}
            code = with_edrpou_check("4400777")
            crm(demo, "crm.requisite.add", {"fields": {**requisite, "RQ_EDRPOU": code}})
            row.get_by_role("button", name="Retry").click()
            expect(page.get_by_role("status")).to_have_text("1 job queued again.")
            expect(page.get_by_text("No dead letters.")).to_be_visible()

            def job_done() -> bool:
                page.goto(f"{demo.dashboard}/jobs/{job_id}")
                return page.locator("h1 .pill").inner_text() == "done"

            wait_for(job_done, timeout=60, what=f"job {job_id} done after the retry")

            page.goto(demo.dashboard + "/")
            expect(page.get_by_role("cell", name="company-changed")).to_be_visible()
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
