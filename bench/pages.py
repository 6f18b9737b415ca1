"""What every panellist page of the demo weighs on the wire, and the rating page's first paint on a slow phone.

    .venv/bin/python bench/pages.py [--repeat 3]

The demo is seeded into a temporary SQLite database by its own code (:func:`delphi.demo.seed_demo`,
:func:`delphi.demo.simulate_demo_rounds`: round 1 closed, round 2 open with round 1's feedback) and one late
joiner is added (:func:`delphi.panels.panellists.add_panellist`), who has not consented yet.  The app runs under
uvicorn on a free 127.0.0.1 port, its mail worker off.  Debian's Chromium (``/usr/bin/chromium``, driven by
Playwright; no browser is downloaded), on a 360 × 740 phone viewport, walks the late joiner through the round:
the personal link, consent, the about-you questions, the panel page, every rating page (with round 1's
feedback), the ranking question, the review, the receipt after sending, and, once the rest of the panel has
answered and the panel has finished, the final results.

Weight: each page is loaded again in a fresh browser context (a cold cache, the flow's cookies) and every
response's ``encodedDataLength`` from the DevTools protocol (``Network.loadingFinished``, plus each redirect's
``redirectResponse``) is summed: headers and bodies as they came over the wire, HTML, CSS, JS and images.  Each
page is weighed twice: as served (the browser's ``Accept-Encoding``, so gzip or brotli) and with
``Accept-Encoding`` taken off the request before the app sees it (plain: the figure before compression).
1 KB = 1,000 bytes.

First contentful paint: the first rating page, each time in a fresh context (cold cache), under
``Network.emulateNetworkConditions`` (400 ms latency, 50,000 B/s down and up: the "Slow 3G" of Lighthouse and of
DevTools before Chrome 119; newer DevTools' preset adds 2,000 ms per request, measured too as
``fcp_ms_slow3g_2000ms``) and ``Emulation.setCPUThrottlingRate`` 4, read from
``performance.getEntriesByName('first-contentful-paint')``; the median of ``--repeat`` loads.

Floor, in the same run: a minimal static HTML page (a heading and a paragraph, no CSS or JS, no favicon request) served by the same
uvicorn server (answered ahead of the app), weighed and painted the same way; the ratios say what the app adds.

Goal: every page ≤ 60 KB, the rating page's FCP ≤ 2.5 s.  The last line is a JSON object: ``max_page_kb``,
``fcp_ms_slow3g`` (the goal's figures), ``max_page_kb_plain``, ``fcp_ms_slow3g_plain``,
``fcp_ms_slow3g_2000ms``, ``floor_kb``, ``floor_fcp_ms_slow3g``, ``fcp_ratio_vs_floor``, and ``pages`` (KB per
page, compressed and plain).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from delphi import demo  # noqa: E402
from delphi.db.engine import make_engine, make_sessionmaker  # noqa: E402
from delphi.db.models import (  # noqa: E402
    Account,
    Base,
    Panel,
    Panellist,
    RoundRanking,
    RoundStatement,
    StakeholderGroup,
    utcnow,
)
from delphi.domain import Actor  # noqa: E402
from delphi.panels.panellists import add_panellist  # noqa: E402
from delphi.participation.checks import RatingInput  # noqa: E402
from delphi.participation.ranking import RankingInput, save_ranking  # noqa: E402
from delphi.participation.saving import save_rating  # noqa: E402
from delphi.participation.submit import submit  # noqa: E402
from delphi.rounds import lookup, transitions  # noqa: E402
from delphi.security import panellist_token  # noqa: E402
from delphi.settings import Settings  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
SECRET = "bench-pages-secret-key-long-enough-for-the-settings-check"
LATE_JOINER = "late.joiner@demo.example"
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
SLOW_3G_2000 = {**SLOW_3G, "latency": 2000}
CPU_SLOWDOWN = 4
FLOOR_PATH = "/__bench_floor"
FLOOR_HTML = (
    b"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    b"<meta name='viewport' content='width=device-width, initial-scale=1'><title>Floor</title>"
    b"<link rel='icon' href='data:,'></head>"
    b"<body><h1>A minimal page</h1><p>One paragraph of text, no style sheet, no script.</p></body></html>"
)
FCP_JS = """() => new Promise(resolve => {
  const seen = performance.getEntriesByName('first-contentful-paint')[0];
  if (seen) { resolve(seen.startTime); return; }
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') resolve(e.startTime);
  }).observe({type: 'paint', buffered: true});
})"""


class Harness:
    """ASGI wrapper around the app: answers :data:`FLOOR_PATH` itself, and with ``compress`` off drops the
    request's ``Accept-Encoding`` so the app answers uncompressed (the "before" figures)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.compress = True

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if scope["path"] == FLOOR_PATH:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(FLOOR_HTML)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": FLOOR_HTML})
                return
            if not self.compress:
                headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
                scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)


@dataclass
class Weight:
    """One cold load: bytes over the wire in all and per resource type (``Document``, ``Stylesheet``, …)."""

    total: int
    by_type: dict[str, int]
    encodings: set[str]
    others: list[str]


async def prepare(settings: Settings) -> tuple[int, int, str]:
    """Seed the demo and add the late joiner; (panel id, facilitator account id, the joiner's link path)."""
    engine = make_engine(settings.database, null_pool=True)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with make_sessionmaker(engine)() as session, session.begin():
            account, panel = await demo.seed_demo(session, password="a long enough password")
            await demo.simulate_demo_rounds(session, panel, account, settings, utcnow())
            group_id = await session.scalar(
                select(StakeholderGroup.id)
                .where(StakeholderGroup.panel_id == panel.id)
                .order_by(StakeholderGroup.position)
            )
            joiner = await add_panellist(
                session,
                panel,
                email=LATE_JOINER,
                group_id=group_id,
                name="Sam",
                secret_key=SECRET,
                actor=Actor.account(account),
            )
            token = panellist_token(SECRET, joiner.id, joiner.session_version)
            return panel.id, account.id, f"/p/{token}"
    finally:
        await engine.dispose()


async def finish_panel(settings: Settings, panel_id: int, account_id: int) -> None:
    """Every other panellist rates round 2 (7 to 9), is unable to rank and sends; round 2 closes, the panel
    finishes (through the use cases)."""
    engine = make_engine(settings.database, null_pool=True)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            panel = await session.get(Panel, panel_id)
            round2 = await lookup.get_round(session, panel, 2)
            people = (
                await session.scalars(
                    select(Panellist)
                    .where(Panellist.panel_id == panel_id, Panellist.email != LATE_JOINER)
                    .order_by(Panellist.id)
                )
            ).all()
            statements = (
                await session.scalars(
                    select(RoundStatement.statement_id).where(RoundStatement.round_id == round2.id)
                )
            ).all()
            questions = (
                await session.scalars(
                    select(RoundRanking.question_id).where(RoundRanking.round_id == round2.id)
                )
            ).all()
            for n, p in enumerate(people):
                for sid in statements:
                    await save_rating(session, p, RatingInput(sid, 7 + (n + sid) % 3))
                for qid in questions:
                    await save_ranking(session, p, RankingInput(qid, unable=True))
                await submit(session, p, send_receipt=False)
            actor = Actor.account(await session.get(Account, account_id))
            outcome = await transitions.close_round(session, panel, round2, settings=settings, actor=actor)
            if not outcome.finished:
                await transitions.finish_panel(session, panel, settings=settings, actor=actor)
    finally:
        await engine.dispose()


async def weigh(browser: Any, url: str, state: Any) -> Weight:
    """Load ``url`` in a fresh context (cold cache, cookies from ``state``) and sum the bytes received."""
    context = await browser.new_context(viewport=PHONE, storage_state=state)
    try:
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        kinds: dict[str, str] = {}
        sizes: dict[str, int] = {}
        redirects: list[int] = []
        encodings: set[str] = set()
        urls: dict[str, str] = {}

        def received(e: dict) -> None:
            headers = {k.lower(): v for k, v in e["response"].get("headers", {}).items()}
            encodings.add(headers.get("content-encoding", "identity"))
            urls[e["requestId"]] = e["response"]["url"]

        def sent(e: dict) -> None:
            kinds[e["requestId"]] = e.get("type", "Other")
            if "redirectResponse" in e:
                redirects.append(int(e["redirectResponse"].get("encodedDataLength", 0)))

        cdp.on("Network.requestWillBeSent", sent)
        cdp.on("Network.responseReceived", received)
        cdp.on(
            "Network.loadingFinished",
            lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])),
        )
        await cdp.send("Network.enable")
        await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        await page.goto(url, wait_until="load")
        await page.wait_for_load_state("networkidle")
        by_type: dict[str, int] = {}
        for rid, size in sizes.items():
            kind = kinds.get(rid, "Other")
            by_type[kind] = by_type.get(kind, 0) + size
        if redirects:
            by_type["Redirect"] = sum(redirects)
        others = [urls.get(rid, "?") for rid in sizes if kinds.get(rid, "Other") == "Other"]
        return Weight(sum(by_type.values()), by_type, encodings, others)
    finally:
        await context.close()


async def first_paint(browser: Any, url: str, state: Any, network: dict) -> float:
    """Milliseconds to first contentful paint of ``url`` in a fresh context under ``network`` and 4× CPU."""
    context = await browser.new_context(viewport=PHONE, storage_state=state)
    try:
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        await cdp.send("Network.emulateNetworkConditions", network)
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        await page.goto(url, wait_until="load", timeout=180_000)
        return float(await page.evaluate(FCP_JS))
    finally:
        await context.close()


async def click_and_wait(page: Any, role: str, name: str) -> None:
    async with page.expect_navigation():
        await page.get_by_role(role, name=name, exact=True).click()


async def walk(browser: Any, base: str, link: str, on_page: Any, finish: Any) -> None:
    """The late joiner's round in one context; ``on_page(name, url, state)`` is awaited on every page."""
    await on_page("link", base + link, None)
    context = await browser.new_context(viewport=PHONE)
    try:
        page = await context.new_page()
        await page.goto(base + link)
        assert page.url.endswith("/panel/consent"), page.url
        await on_page("consent", page.url, await context.storage_state())
        await page.check("#consent")
        await click_and_wait(page, "button", "Agree and continue")
        if page.url.endswith("/panel/about-you"):
            await on_page("about-you", page.url, await context.storage_state())
            await page.get_by_label(demo.DEMO_BASELINE_YEARS[1][1]).check()
            await click_and_wait(page, "button", "Save and continue")
        await on_page("home", page.url, await context.storage_state())
        await click_and_wait(page, "link", "Start rating")
        step = 0
        while "/panel/rate" in page.url:
            step += 1
            await on_page(f"rate-{step}", page.url, await context.storage_state())
            ids = await page.eval_on_selector_all("section.statement", "els => els.map(e => e.id.slice(3))")
            for sid in ids:
                await page.click(f"label[for='s{sid}-8']")
            await page.wait_for_function(
                "() => { const f = document.querySelector('form[data-autosave]');"
                " return !f || f.dataset.pending === '0'; }"
            )
            async with page.expect_navigation():
                await page.locator("button[value=next], button[value=review]").first.click()
        while "/panel/rank/" in page.url:
            await on_page("rank", page.url, await context.storage_state())
            for rank, item in enumerate(demo.DEMO_RANKING[1], start=1):
                await page.get_by_label(item, exact=True).select_option(str(rank))
            async with page.expect_navigation():
                await page.locator("button[value=next], button[value=review]").first.click()
        assert page.url.endswith("/panel/review"), page.url
        await on_page("review", page.url, await context.storage_state())
        await click_and_wait(page, "button", "Send my answers")
        assert page.url.endswith("/panel/done"), page.url
        await on_page("receipt", page.url, await context.storage_state())
        await finish()
        await page.goto(base + "/panel")
        assert page.url.endswith("/panel/results"), page.url
        await on_page("results", page.url, await context.storage_state())
    finally:
        await context.close()


def kb(n: float) -> float:
    return round(n / 1000, 1)


async def run(repeat: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    from delphi.app import create_app
    from tests.browser.conftest import free_port
    from tests.browser.serving import live_settings, serving

    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = replace(
        live_settings(f"sqlite+aiosqlite:///{tmp / 'demo.db'}", port, tmp / "var"), secret_key=SECRET
    )
    panel_id, account_id, link = await prepare(settings)
    harness = Harness(create_app(settings))
    stop = ExitStack()
    stop.enter_context(serving(harness, port, "uvicorn-bench-pages"))
    pages: dict[str, dict[str, Any]] = {}
    rate_page: tuple[str, Any] | None = None
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

            async def on_page(name: str, url: str, state: Any) -> None:
                nonlocal rate_page
                harness.compress = True
                packed = await weigh(browser, url, state)
                harness.compress = False
                plain = await weigh(browser, url, state)
                harness.compress = True
                pages[name] = {"kb": kb(packed.total), "kb_plain": kb(plain.total), "by_type": packed.by_type}
                print(
                    f"{name:<10} {kb(packed.total):6.1f} KB  (plain {kb(plain.total):6.1f} KB)  "
                    + ", ".join(f"{k} {kb(v)}" for k, v in sorted(packed.by_type.items()))
                    + f"  [{'/'.join(sorted(packed.encodings))}]"
                    + (f" other: {' '.join(packed.others)}" if packed.others else ""),
                    flush=True,
                )
                if rate_page is None and name.startswith("rate-"):
                    rate_page = (url, state)

            await walk(browser, base, link, on_page, lambda: finish_panel(settings, panel_id, account_id))
            assert rate_page is not None
            floor = await weigh(browser, base + FLOOR_PATH, None)
            fcp: dict[str, list[float]] = {
                "app": [],
                "app_2000": [],
                "plain": [],
                "floor": [],
                "floor_2000": [],
            }
            for _ in range(repeat):  # interleaved, so a drifting machine load hits all alike
                fcp["floor"].append(await first_paint(browser, base + FLOOR_PATH, None, SLOW_3G))
                fcp["app"].append(await first_paint(browser, *rate_page, SLOW_3G))
                harness.compress = False
                fcp["plain"].append(await first_paint(browser, *rate_page, SLOW_3G))
                harness.compress = True
                fcp["floor_2000"].append(await first_paint(browser, base + FLOOR_PATH, None, SLOW_3G_2000))
                fcp["app_2000"].append(await first_paint(browser, *rate_page, SLOW_3G_2000))
            await browser.close()
    finally:
        stop.close()
    med = {k: round(statistics.median(v)) for k, v in fcp.items()}
    print(f"floor      {kb(floor.total):6.1f} KB")
    for key, values in fcp.items():
        print(f"FCP {key:<10} median {med[key]} ms  ({', '.join(str(round(v)) for v in values)})")
    return {
        "max_page_kb": max(p["kb"] for p in pages.values()),
        "fcp_ms_slow3g": med["app"],
        "max_page_kb_plain": max(p["kb_plain"] for p in pages.values()),
        "fcp_ms_slow3g_plain": med["plain"],
        "fcp_ms_slow3g_2000ms": med["app_2000"],
        "floor_kb": kb(floor.total),
        "floor_fcp_ms_slow3g": med["floor"],
        "floor_fcp_ms_slow3g_2000ms": med["floor_2000"],
        "fcp_ratio_vs_floor": round(med["app"] / med["floor"], 2),
        "kb_ratio_vs_floor": round(max(p["kb"] for p in pages.values()) / kb(floor.total), 1),
        "pages": {name: {"kb": p["kb"], "kb_plain": p["kb_plain"]} for name, p in pages.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="first-paint loads per figure (the median)")
    args = parser.parse_args()
    result = asyncio.run(run(max(1, args.repeat)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
