"""Offline site: TeX → MathML at build time versus a vendored MathJax 2.7.9 (issue 17).

Builds the site both ways (scripts/build_html.py --math mathml / --math mathjax) into
build/bench_site/, opens every page from file:// in headless Chromium with the network cut, and
prints per variant: site size, the time from navigation to the ``load`` event and to the last
formula typeset, the files the page loaded, failed loads, math errors, and screenshots of the
first screen of notebook 01 (build/bench_site/<variant>-01.png) to compare by eye.

Usage: .venv/bin/python benchmarks/bench_site_math.py   (numbers are from a shared machine; the
ratio between the variants in one run is what counts)
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "bench_site"
CHROMIUM = os.environ.get("NMFEDU_CHROMIUM", "/usr/bin/chromium")

WAIT_TYPESET = """() => new Promise(resolve => {
  const t0 = performance.now();
  if (!window.MathJax || !MathJax.Hub) return resolve({after_load_ms: 0, n: document.querySelectorAll('math').length});
  MathJax.Hub.Queue(() => resolve({after_load_ms: performance.now() - t0,
                                    n: document.querySelectorAll('.MathJax, .MathJax_Display').length}));
})"""


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        print(f"bench_site_math: needs Debian's chromium at {CHROMIUM} (make chromium)")
        return 2
    print("machine shared with other jobs: compare the variants within this run")
    for variant in ("mathml", "mathjax"):
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_html.py"), "--out",
                        str(OUT / variant), "--math", variant], check=True, stdout=subprocess.DEVNULL)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu",
                                           "--host-resolver-rules=MAP * ~NOTFOUND"])
        for variant in ("mathml", "mathjax"):
            site = OUT / variant
            loads, typesets, files, failed, errors, maths = [], [], set(), [], 0, 0
            for page_path in sorted(site.glob("[0-9]*.html")):
                context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
                page = context.new_page()
                page.on("request", lambda r: files.add(r.url.split("?")[0]))
                page.on("requestfailed", lambda r: failed.append(r.url.rsplit("/", 1)[-1]))
                t0 = time.perf_counter()
                page.goto(page_path.as_uri(), wait_until="load", timeout=120_000)
                t_load = time.perf_counter() - t0
                info = page.evaluate(WAIT_TYPESET)
                loads.append(t_load * 1000)
                typesets.append(t_load * 1000 + info["after_load_ms"])
                maths += info["n"]
                errors += page.evaluate("document.querySelectorAll('merror, .MathJax_Error').length")
                if page_path.name.startswith("01_"):
                    page.evaluate("document.querySelectorAll('h2')[1].scrollIntoView()")
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(OUT / f"{variant}-01.png"))
                context.close()
            extra = size(site / "mathjax") if (site / "mathjax").exists() else 0
            local = sorted({f.rsplit("/", 1)[-1] for f in files if "/mathjax/" in f})
            print(f"{variant:8s} site {size(site) / 1e6:5.1f} MB (math files {extra / 1e6:.1f} MB); "
                  f"load {min(loads):.0f}-{max(loads):.0f} ms, last formula typeset "
                  f"{min(typesets):.0f}-{max(typesets):.0f} ms after navigation; {maths} formulas; "
                  f"{errors} math errors; {len(local)} math files loaded; failed loads: "
                  f"{sorted(set(failed))[:6]}")
        browser.close()
    print(f"screenshots: {OUT}/mathml-01.png, {OUT}/mathjax-01.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
