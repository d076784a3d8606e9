"""The static site (scripts/build_html.py) works with no network, in a real browser.

The site is built once per session from the committed, executed notebooks into a temporary
folder; every page is then opened from ``file://`` in Debian's headless Chromium (Playwright,
like tests/browser/) with every non-file request blocked and recorded. A page fails on any
network request, on TeX left as text in its prose, on a page whose notebook has formulas but
shows none typeset, on a broken picture or audio player, and on a link to a missing file.
Notebooks are found with the same glob as the build, so new or renumbered notebooks are checked
without editing this file.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("NMFEDU_CHROMIUM", "/usr/bin/chromium")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
# TeX that should have been typeset: $…$ / $$…$$ / \( \) / \[ \] pairs, or a TeX command.
RAW_TEX = re.compile(r"\$\$?[^$\n]{1,200}\$|\\[(\[]|\\(frac|mathbf|mathcal|mathbb|top|sum|begin|"
                     r"left|right|odot|oslash|partial|ell|gamma|in|le|ge)\b")


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_html", ROOT / "scripts" / "build_html.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _formulas(path: Path) -> int:
    nb = json.loads(path.read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    text = re.sub(r"```.*?```|`[^`\n]*`", "", text, flags=re.S)  # code is not math
    display = re.findall(r"\$\$.+?\$\$", text, flags=re.S)
    text = re.sub(r"\$\$.+?\$\$", "", text, flags=re.S)
    return len(display) + len(re.findall(r"(?<!\\)\$[^$\n]+?(?<!\\)\$", text))


def _widget_views(path: Path) -> int:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum("application/vnd.jupyter.widget-view+json" in o.get("data", {})
               for c in nb["cells"] for o in c.get("outputs", []))


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The site, built once per session; NMFEDU_SITE_DIR=build/html checks a built one instead."""
    if os.environ.get("NMFEDU_SITE_DIR"):
        out = Path(os.environ["NMFEDU_SITE_DIR"]).resolve()
        return out, [out / "index.html"] + [out / f"{p.stem}.html" for p in NOTEBOOKS]
    out = tmp_path_factory.mktemp("html")
    pages = _load_builder().build(out)
    return out, pages


# Runs in the page: what a reader sees, measured by the browser itself.
PAGE_REPORT = """async () => {
  // MathJax (the default) typesets after load: wait until its queue is empty
  if (window.MathJax && MathJax.Hub) await new Promise(resolve => MathJax.Hub.Queue(resolve));
  const prose = [...document.querySelectorAll(
      '.jp-MarkdownCell .jp-RenderedHTMLCommon, .jp-RenderedMarkdown, body > h1, body > p, li')];
  // MathML and MathJax output are not raw text: leave them out of the prose we search
  const text = prose.map(el => {
      const c = el.cloneNode(true);
      c.querySelectorAll('math, .MathJax, .MathJax_Display, script, code, pre').forEach(m => m.remove());
      return c.innerText; }).join('\\n');
  // one element per formula: MathJax's output span, or a native <math> (--math mathml)
  const maths = [...document.querySelectorAll(window.MathJax ? 'span.MathJax' : 'math')];
  const typeset = maths.filter(m => { const r = m.getBoundingClientRect();
                                       return r.width > 0 && r.height > 0; }).length;
  const images = [...document.images];
  const audios = [...document.querySelectorAll('audio')];
  await Promise.all(audios.map(a => new Promise(resolve => {
      if (a.readyState >= 1) return resolve();
      a.addEventListener('loadedmetadata', resolve, {once: true});
      a.addEventListener('error', resolve, {once: true});
      a.preload = 'metadata'; a.load(); setTimeout(resolve, 10000); })));
  return {
    text, maths: maths.length, typeset, mathjax: !!window.MathJax,
    mathml: typeof MathMLElement !== 'undefined',
    errors: document.querySelectorAll('merror, .merror, .MathJax_Error, .noError').length,
    images: images.length, broken_images: images.filter(i => !(i.complete && i.naturalWidth > 0)).length,
    audios: audios.length,
    bad_audio: audios.filter(a => a.error || a.readyState < 1 || !(a.duration > 0)).map(a => a.src.slice(0, 40)),
    audio_src: audios.filter(a => !a.src.startsWith('data:')).length,
    notes: document.querySelectorAll('.nmfedu-static-note').length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
  };
}"""


@pytest.fixture(scope="session")
def reports(site):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"the site test needs Debian's chromium at {CHROMIUM}: run 'make chromium'")
    from playwright.sync_api import sync_playwright

    out, pages = site
    results = {}
    with sync_playwright() as pw:
        # No network for the browser at all: unresolvable hosts and a dead proxy, on top of
        # the request log below (which is what the test asserts on).
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--host-resolver-rules=MAP * ~NOTFOUND",
                  "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"])
        context = browser.new_context(offline=True)
        for page_path in pages:
            page = context.new_page()
            requests, console = [], []
            page.on("request", lambda r, requests=requests: requests.append(r.url))
            page.on("console", lambda m, console=console: console.append(f"{m.type}: {m.text}")
                    if m.type == "error" else None)
            page.on("pageerror", lambda e, console=console: console.append(f"pageerror: {e}"))
            page.goto(page_path.as_uri(), wait_until="load", timeout=60_000)
            report = page.evaluate(PAGE_REPORT)
            report["requests"] = [u for u in requests
                                  if not u.startswith(("file://", "data:", "blob:", "about:"))]
            report["console"] = console
            results[page_path.name] = report
            page.close()
        browser.close()
    return results


def test_index_lists_the_series_in_order(site, reports):
    out, _ = site
    links = [h for h in reports["index.html"]["links"] if re.match(r"\d\d_", h)]
    assert links == [f"{p.stem}.html" for p in NOTEBOOKS]
    assert all((out / h).is_file() for h in links)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_page_works_offline(site, reports, nb):
    out, _ = site
    r = reports[f"{nb.stem}.html"]
    assert not r["requests"], f"{nb.stem}.html asked the network for {r['requests'][:5]}"
    assert r["mathjax"] or r["mathml"], "this Chromium has no MathML support"
    raw = [m.group(0) for m in RAW_TEX.finditer(r["text"])]
    assert not raw, f"{nb.stem}.html shows raw TeX: {raw[:5]}"
    n = _formulas(nb)
    if n:
        assert r["typeset"] > 0, f"{nb.stem}.html: {n} formulas in the notebook, none typeset"
        assert r["typeset"] == r["maths"], f"{r['maths'] - r['typeset']} formulas have no size"
        assert r["typeset"] >= n, f"{nb.stem}.html typesets {r['typeset']} of {n} formulas"
    assert r["errors"] == 0, f"{nb.stem}.html has {r['errors']} math errors"
    assert r["broken_images"] == 0, f"{nb.stem}.html: {r['broken_images']} of {r['images']} images broken"
    assert r["audio_src"] == 0, "audio players must embed their data (data: URLs)"
    assert not r["bad_audio"], f"{nb.stem}.html: audio players that do not load: {r['bad_audio']}"
    assert r["notes"] == _widget_views(nb), "every widget must show its stored picture with a note"
    assert not [c for c in r["console"] if "pageerror" in c], r["console"]


def test_local_links_resolve(site, reports):
    out, _ = site
    missing = []
    for page, r in reports.items():
        for href in r["links"]:
            if re.match(r"[a-z]+:|#", href):
                continue
            if not (out / href.split("#")[0]).exists():
                missing.append(f"{page}: {href}")
    assert not missing, missing


def test_no_cdn_reference_in_the_files(site):
    """A second, browser-independent guard: no script, style or font is referenced remotely."""
    out, pages = site
    for page in pages:
        text = page.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img|iframe|audio|source)\b[^>]*?(?:src|href)="(https?:[^"]+)"', text)
        assert not remote, f"{page.name} references {remote[:3]}"
        assert "widget-state+json" not in text and "embed-amd" not in text


def test_site_is_small(site):
    out, _ = site
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    assert size < 40e6, f"site is {size / 1e6:.1f} MB"
