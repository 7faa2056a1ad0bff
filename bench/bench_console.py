"""Console benchmark: the duty officer's map with 1,000 live aircraft, in Chromium.

Run from the repository root (needs Debian's Chromium at ``/usr/bin/chromium``)::

    .venv/bin/python bench/bench_console.py              # 1,000 aircraft, 3 runs
    .venv/bin/python bench/bench_console.py --aircraft 2000 --repeats 1

A real ``deconfliction serve`` process on loopback on a fresh SQLite file, the
parties ``coalition`` and ``russia``, euphrates-2017 in effect; a headless Chromium
(1280 x 800, software WebGL) signs in as the coalition. Then, each run:

1. the frame times (``requestAnimationFrame`` intervals) of a 3 s zoom across the
   area before any aircraft is posted;
2. N coalition aircraft posted (a 40-wide grid in north-east Syria, east of the
   line, 0.04 degrees apart), and the time until the console shows all of them;
3. the same zoom with them: median and 95th percentile frame time;
4. five rebuilds of the aircraft source, as a poll does: the time on the page's
   thread, and until the map is idle again (drawn);
5. the longest task that blocked the page's thread (Long Tasks API) and the time
   from a click on the Protocol tab to its panel being shown.

Results go to stdout and to ``bench/out/console.json``. The test suite checks what
the console does with 1,000 aircraft (``tests/integration/test_console.py``), not
how fast: these figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench_service import (
    OUT_DIR,
    ServerProcess,
    machine,
    put_protocol_in_effect,
    register_parties,
)
from deconfliction.domain.geodesy import destination

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
WAIT_MS = 60_000
GRID_WIDTH = 40  # aircraft per row of the grid
GRID_STEP_DEG = 0.04  # about 2.4 NM between neighbours
GRID_ORIGIN_DEG = (35.9, 40.6)  # south-west corner, east of the Euphrates line
STEP_S = 5.0  # between the two positions of each aircraft

# Frame times (requestAnimationFrame intervals) during a 3 s zoom across the grid.
FRAMES_JS = """async () => {
  const map = window.dcf.mapView.map;
  map.jumpTo({center: [40.2, 35.6], zoom: 6});
  await new Promise((r) => map.once('idle', r));
  const deltas = [];
  let last = performance.now(), running = true;
  const loop = (t) => {
    deltas.push(t - last);
    last = t;
    if (running) requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  map.easeTo({center: [41.4, 36.4], zoom: 8, duration: 3000});
  await new Promise((r) => setTimeout(r, 3000));
  running = false;
  deltas.sort((a, b) => a - b);
  const q = (f) => deltas[Math.min(deltas.length - 1, Math.floor(f * deltas.length))];
  return {frames: deltas.length, median_ms: q(0.5), p95_ms: q(0.95)};
}"""

# Five rebuilds of the aircraft source, as a poll does: time on the page's thread
# (building the features, handing them to the map's worker) and until drawn.
UPDATES_JS = """async () => {
  const view = window.dcf.mapView, map = view.map;
  const js = [], screen = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    js.push(view.setAircraft(window.dcf.store.state.tracks));
    await new Promise((r) => map.once('idle', r));
    screen.push(performance.now() - t0);
  }
  js.sort((a, b) => a - b);
  screen.sort((a, b) => a - b);
  return {js_ms_median: js[2], screen_ms_median: screen[2]};
}"""

# The longest task that blocked the page's thread from now on (Long Tasks API).
LONG_TASKS_JS = """() => {
  window.__longTaskMax = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      window.__longTaskMax = Math.max(window.__longTaskMax, e.duration);
    }
  }).observe({type: 'longtask', buffered: false});
}"""

CLICK_JS = """async () => {
  const t0 = performance.now();
  document.querySelector("#tabs button[data-tab='protocol']").click();
  await new Promise((r) => requestAnimationFrame(() => r()));
  if (!document.querySelector('#panel-protocol.active')) return -1;
  return performance.now() - t0;
}"""

RENDERER_JS = """() => {
  const gl = document.createElement('canvas').getContext('webgl2');
  const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
  return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : 'unknown';
}"""


def grid_positions(n: int, t0_s: float) -> list[dict[str, Any]]:
    """Two positions of each of ``n`` aircraft flying east at FL200, 300 kt."""
    rows = []
    for k in range(n):
        lat0 = GRID_ORIGIN_DEG[0] + GRID_STEP_DEG * (k // GRID_WIDTH)
        lon0 = GRID_ORIGIN_DEG[1] + GRID_STEP_DEG * (k % GRID_WIDTH)
        for step in range(2):
            lat, lon = destination(lat0, lon0, 90.0, 300.0 * step * STEP_S / 3600)
            rows.append(
                {
                    "id": f"AC{k:04d}",
                    "time": t0_s + step * STEP_S,
                    "lat": float(lat),
                    "lon": float(lon),
                    "alt_ft": 20000.0,
                    "gs_kt": 300.0,
                    "trk_deg": 90.0,
                    "vs_fpm": 0.0,
                }
            )
    return rows


def sign_in(page: Any, url: str, token: str) -> None:
    """Open the console and sign in as the token's party."""
    page.goto(url + "/")
    page.fill("#signin-token", token)
    page.click("#signin-submit")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function("window.dcf.stats.connected === true")


def one_run(browser: Any, url: str, token: str, n: int, run: int) -> dict[str, Any]:
    """Sign in afresh, post ``n`` aircraft and measure."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        sign_in(page, url, token)
        page.evaluate(LONG_TASKS_JS)
        empty = page.evaluate(FRAMES_JS)
        # Later runs fly the same aircraft later: each run moves the picture on.
        body = {"batch_id": f"grid-{run}", "positions": grid_positions(n, time.time())}
        started = time.perf_counter()
        r = httpx.post(
            f"{url}/v1/tracks",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        r.raise_for_status()
        page.wait_for_function(f"window.dcf.stats.aircraft === {n}")
        shown_s = time.perf_counter() - started
        busy = page.evaluate(FRAMES_JS)
        updates = page.evaluate(UPDATES_JS)
        click_ms = page.evaluate(CLICK_JS)
        return {
            "aircraft": n,
            "post_to_shown_s": round(shown_s, 2),
            "frame_ms_median_without_aircraft": empty["median_ms"],
            "frame_ms_median": busy["median_ms"],
            "frame_ms_p95": busy["p95_ms"],
            "update_js_ms_median": updates["js_ms_median"],
            "update_to_screen_ms_median": updates["screen_ms_median"],
            "long_task_ms_max": page.evaluate("window.__longTaskMax"),
            "click_to_panel_ms": click_ms,
            "renderer": page.evaluate(RENDERER_JS),
        }
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aircraft", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(
            f"{CHROMIUM} is not installed (apt-get install chromium)", file=sys.stderr
        )
        return 2
    from playwright.sync_api import sync_playwright

    info = machine()
    runs = []
    with tempfile.TemporaryDirectory(prefix="dcf-bench-") as tmp:
        workdir = Path(tmp)
        database_url = f"sqlite:///{workdir / 'console.db'}"
        tokens = register_parties(database_url)
        server = ServerProcess.start(database_url, workdir)
        try:
            put_protocol_in_effect(server.url, tokens)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                try:
                    for run in range(args.repeats):
                        runs.append(
                            one_run(
                                browser,
                                server.url,
                                tokens["coalition"],
                                args.aircraft,
                                run,
                            )
                        )
                        print(json.dumps(runs[-1]))
                finally:
                    browser.close()
        finally:
            server.stop()
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)][1:]
    medians = {k: round(statistics.median(r[k] for r in runs), 1) for k in keys}
    print(f"\nmedian of {len(runs)} runs, {args.aircraft} aircraft:")
    for key, value in medians.items():
        print(f"  {key}: {value}")
    OUT_DIR.mkdir(exist_ok=True)
    out = OUT_DIR / "console.json"
    out.write_text(json.dumps({"machine": info, "runs": runs, "median": medians}))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
