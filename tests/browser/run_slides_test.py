#!/usr/bin/env python
"""Slide-mode browser test: the lecture decks offline, and live presenting in JupyterLab.

A sibling of run_browser_test.py (it reuses its JupyterLab server, scratch copy and widget
driver). Three checks, in Debian's headless Chromium:

1. **Offline deck** (``make slides`` output). Opens ``build/slides/<deck>.slides.html`` from disk
   with the network blocked (a dead proxy for every scheme but ``file:``) and fails on any request
   that is not a ``file:`` URL (a CDN the deck still needs), on a deck that reveal.js did not
   initialise, on fewer than two slides, on math that MathJax did not typeset (or a "Math
   Processing Error"), or on an image that did not load. Saves a screenshot of the first slide with
   display math in build/browser/.
2. **Live presenting** (the fallback for widgets, see 3). Opens the notebook in JupyterLab,
   switches on *Presentation Mode* (larger fonts) and the single-document interface, runs
   "Restart Kernel and Run All Cells" and moves the first widget of every interactive figure; the
   figure must change (the checks of run_browser_test.py).
3. **jupyterlab-rise** (``--rise``; only if the package is installed). Opens ``/rise/<notebook>``,
   checks that reveal.js slides render and that MathJax typesets, runs a one-cell probe with an
   ipywidgets slider and reports whether the widget renders. With jupyterlab-rise 0.43.1,
   JupyterLab 4.6.6 and ipywidgets 8 it does not: the widget manager extension fails to load in
   RISE's page ("Shared module @jupyterlab/console doesn't exist in shared scope default";
   jupyterlab-contrib/rise issue 119), and the widget shows only as its text repr.

Usage:  .venv/bin/python tests/browser/run_slides_test.py [--deck build/slides/04_hand_separation.slides.html]
        [--notebook notebooks/04_hand_separation.ipynb] [--rise]
Exit code non-zero if a check fails.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_browser_test as rbt  # noqa: E402

REPO = rbt.REPO
BUILD = rbt.BUILD
DEFAULT_DECK = REPO / "build" / "slides" / "04_hand_separation.slides.html"
DEFAULT_NB = REPO / "notebooks" / "04_hand_separation.ipynb"

JS_DECK = r"""
() => {
  const reveal = document.querySelector('.reveal');
  const sections = document.querySelectorAll('.reveal .slides section');
  const top = document.querySelectorAll('.reveal .slides > section');
  const mj = window.MathJax;
  const typeset = document.querySelectorAll('.MathJax_CHTML, .mjx-chtml, mjx-container').length;
  const scripts = document.querySelectorAll('script[type^="math/tex"]').length;
  const imgs = [...document.querySelectorAll('.reveal .slides img')];
  return {
    ready: !!(reveal && reveal.classList.contains('ready')),
    sections: sections.length, top: top.length,
    mathjax: !!(mj && mj.Hub), pending: mj && mj.Hub ? mj.Hub.queue.pending : null,
    typeset, scripts,
    errors: document.body.innerText.includes('Math Processing Error'),
    images: imgs.length, broken: imgs.filter(i => i.complete && i.naturalWidth === 0).length,
  };
}
"""


def check_deck(pw, deck: Path, problems: list[str]) -> str:
    if not deck.is_file():
        problems.append(f"deck {deck} not found: run 'make slides' first")
        return "-"
    # every request must be a file: URL; anything else goes to a dead proxy and is recorded
    browser = pw.chromium.launch(executable_path=rbt.CHROMIUM, args=rbt.CHROMIUM_ARGS + [
        "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        "--allow-file-access-from-files"])
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(deck.resolve().as_uri(), wait_until="load", timeout=60000)
        info = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            info = page.evaluate(JS_DECK)
            if info["ready"] and info["mathjax"] and info["pending"] == 0 and info["typeset"] >= info["scripts"] > 0:
                break
            time.sleep(0.5)
        remote = sorted({u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))})
        for u in remote[:10]:
            problems.append(f"deck requested a remote URL (blocked): {u}")
        if not info["ready"]:
            problems.append("reveal.js did not initialise the deck (no .reveal.ready)")
        if info["sections"] < 2:
            problems.append(f"only {info['sections']} slide section(s)")
        if not info["mathjax"]:
            problems.append("MathJax did not load")
        elif info["scripts"] == 0 or info["typeset"] < info["scripts"]:
            problems.append(f"math not typeset: {info['typeset']} rendered of {info['scripts']} formulas")
        if info["errors"]:
            problems.append("page shows 'Math Processing Error'")
        if info["broken"]:
            problems.append(f"{info['broken']} of {info['images']} images did not load")
        for e in errors[:3]:
            problems.append(f"page error: {e[:200]}")
        # step to the first slide with display math and keep a screenshot
        shot = BUILD / (deck.stem + ".png")
        for _ in range(40):
            if page.evaluate("() => !!document.querySelector('.reveal section.present .MathJax_Display, "
                             ".reveal section.present .mjx-chtml.MJXc-display')"):
                break
            page.keyboard.press("ArrowRight")
            time.sleep(0.15)
        BUILD.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
        return (f"{info['top']} slides ({info['sections']} sections), {info['typeset']}/{info['scripts']} "
                f"formulas typeset, {info['images']} images, {len(requests)} requests all file:, "
                f"screenshot {shot.relative_to(REPO)}")
    finally:
        browser.close()


def present_live(pw, nb: Path, args, problems: list[str]) -> str:
    scratch = Path(tempfile.mkdtemp(prefix="slides-", dir=BUILD))
    rels = rbt.prepare_scratch(scratch, [nb])
    server = rbt.Server(scratch, BUILD / "jupyterlab-slides.log")
    browser = None
    try:
        server.start()
        browser = pw.chromium.launch(executable_path=rbt.CHROMIUM, args=rbt.CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        tab = {"errors": []}
        page = rbt.open_notebook(context, server, rels[0], args, tab)
        page.evaluate("""async () => {
            const c = window.jupyterapp.commands;
            if (!c.isToggled('application:toggle-presentation-mode'))
                await c.execute('application:toggle-presentation-mode');
            await c.execute('application:set-mode', {mode: 'single-document'});
        }""")
        res = rbt.check_notebook(context, server, rels[0], args, tab)
        # check_notebook closes the notebook; the mode belongs to the page
        page = tab.get("page")
        on = page.evaluate("() => window.jupyterapp.commands.isToggled('application:toggle-presentation-mode')") \
            if page is not None and not page.is_closed() else None
        if on is False:
            problems.append("presentation mode was not on")
        for p in res.problems:
            problems.append(p)
        if not res.ok:
            problems.append("live presenting in JupyterLab failed (see above)")
        if res.n_controls + res.n_runs == 0:
            problems.append(f"{rels[0]} has no widget to check")
        return (f"presentation mode {'on' if on else '?'}, run-all {res.run_s or 0:.0f} s, "
                f"widgets changed: {res.changed}, screenshot {res.screenshot}")
    finally:
        if browser is not None:
            browser.close()
        for p in server.stop():
            problems.append(p)


def check_rise(pw, args, problems: list[str]) -> str:
    try:
        import jupyterlab_rise  # noqa: F401
    except ImportError:
        return "skipped (jupyterlab-rise is not installed; see the module docstring for the verdict)"
    import nbformat
    scratch = Path(tempfile.mkdtemp(prefix="rise-", dir=BUILD))
    rels = rbt.prepare_scratch(scratch, [Path(args.notebook)])
    probe = nbformat.v4.new_notebook()
    probe.cells = [nbformat.v4.new_markdown_cell("# Probe\n\n$$V \\approx WH$$"),
                   nbformat.v4.new_code_cell("import ipywidgets as w\nw.IntSlider(description='probe')")]
    for c in probe.cells:
        c.metadata["slideshow"] = {"slide_type": "slide"}
    probe.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(probe, scratch / "root" / "rise_probe.ipynb")
    server = rbt.Server(scratch, BUILD / "jupyterlab-rise.log")
    browser = None
    try:
        server.start()
        browser = pw.chromium.launch(executable_path=rbt.CHROMIUM, args=rbt.CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text[:200]) if m.type == "error" else None)
        page.goto(f"{server.base}/rise/{rels[0]}?token={server.token}", wait_until="domcontentloaded",
                  timeout=120000)
        page.wait_for_selector(".reveal .slides section", timeout=120000)
        rbt.wait_for(lambda: page.evaluate("() => document.querySelectorAll('mjx-container').length") > 0, 60)
        slides = page.evaluate("() => document.querySelectorAll('.reveal .slides section').length")
        math = page.evaluate("() => document.querySelectorAll('mjx-container').length")
        if slides < 2:
            problems.append(f"RISE: only {slides} slide sections")
        if math == 0:
            problems.append("RISE: no typeset math")
        page.goto(f"{server.base}/rise/rise_probe.ipynb?token={server.token}", wait_until="domcontentloaded",
                  timeout=120000)
        page.wait_for_selector(".reveal .slides section", timeout=120000)
        time.sleep(5)
        page.keyboard.press("ArrowRight")
        time.sleep(1.5)
        page.locator(".reveal section.present .jp-CodeCell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")
        rendered = rbt.wait_for(lambda: page.evaluate(
            "() => document.querySelectorAll('.reveal section.present .widget-slider').length") > 0, 30)
        shot = BUILD / "rise_probe.png"
        page.screenshot(path=str(shot))
        if not rendered:
            text = page.evaluate("() => document.querySelector('.reveal section.present').innerText")
            why = next((c for c in console if "Shared module" in c), console[0] if console else "")
            problems.append(f"RISE: the ipywidgets slider did not render (output {text.splitlines()[-1]!r}; "
                            f"console: {why.splitlines()[0] if why else '-'})")
        return f"{slides} sections, {math} formulas typeset, widget rendered: {bool(rendered)}, screenshot {shot.relative_to(REPO)}"
    finally:
        if browser is not None:
            browser.close()
        for p in server.stop():
            problems.append(p)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--deck", default=str(DEFAULT_DECK), help="exported deck to open from disk")
    ap.add_argument("--notebook", default=str(DEFAULT_NB), help="notebook to present live in JupyterLab")
    ap.add_argument("--rise", action="store_true", help="also check jupyterlab-rise (if installed)")
    ap.add_argument("--skip-live", action="store_true", help="only the offline deck")
    args = ap.parse_args(argv)
    lab_args = SimpleNamespace(load_budget=180.0, budget=300.0, cell_budget=0.0, change_budget=60.0,
                               max_groups=2)
    for k, v in vars(lab_args).items():
        setattr(args, k, v)
    from playwright.sync_api import sync_playwright

    BUILD.mkdir(parents=True, exist_ok=True)
    failed = 0
    with sync_playwright() as pw:
        checks = [("offline deck " + Path(args.deck).name, lambda p: check_deck(pw, Path(args.deck), p))]
        if not args.skip_live:
            checks.append(("live in JupyterLab " + Path(args.notebook).name,
                           lambda p: present_live(pw, Path(args.notebook), args, p)))
        if args.rise:
            checks.append(("jupyterlab-rise", lambda p: check_rise(pw, args, p)))
        for name, fn in checks:
            problems: list[str] = []
            t0 = time.monotonic()
            try:
                summary = fn(problems)
            except Exception as e:  # noqa: BLE001 - report and go on
                summary = "-"
                problems.append(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            status = "FAIL" if problems else "PASS"
            failed += bool(problems)
            print(f"{status} {name}: {summary} ({time.monotonic() - t0:.0f} s)")
            for p in problems:
                print(f"    - {p}")
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
