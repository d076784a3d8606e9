#!/usr/bin/env python
"""Export the executed notebooks as reveal.js slide decks that work offline (``make slides``).

Each notebook's cells carry ``slideshow.slide_type`` metadata (slide, subslide, fragment, skip,
notes, "-"): the lecture path of the series (see the table "Lecture mode" in 00_index). This
script runs ``nbconvert``'s ``SlidesExporter`` on every notebook and writes
``OUT/NN_name.slides.html``, with every script and style sheet the decks need copied into
``OUT/_static/`` from npm packages (``make slides`` installs them with ``npm ci`` from
``scripts/slides/package-lock.json`` into ``build/slides-vendor/``):

* reveal.js 4.0.2 (the version nbconvert's reveal template is written for; its ``dist/`` and
  ``plugin/notes``), require.js and jQuery (the template loads reveal.js through require.js);
* MathJax 2.7.9 (``MathJax.js?config=TeX-AMS_CHTML-full,Safe``, the configuration of nbconvert's
  default CDN URL, with only the TeX fonts).

nbconvert's template also loads MermaidJS and, for notebooks with saved widget state, the
widget HTML manager from CDNs. The decks need neither: a small template
(``scripts/slides/nmfedu_reveal``) drops both, and interactive figures show their saved PNG
(every nmfedu widget stores one) instead of an empty widget placeholder. So a deck opened from
disk makes no network request at all (``tests/browser/run_slides_test.py`` checks it in
Chromium with the network blocked).

Code is hidden by default (the figures, tables and formulas are the slides; the code is in the
notebook); ``--input`` keeps it.

Usage:  python scripts/build_slides.py [NOTEBOOK ...] --out build/slides [--vendor DIR] [--input]
"""
from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = REPO / "scripts" / "slides"
STATIC = "_static"
MATHJAX_CONFIG = "TeX-AMS_CHTML-full,Safe"
# what the decks need from each npm package: (package, source path, destination under _static)
ASSETS = [
    ("reveal.js", "dist", "reveal.js/dist"),
    ("reveal.js", "plugin/notes", "reveal.js/plugin/notes"),
    ("requirejs", "require.js", "require.js"),
    ("jquery", "dist/jquery.min.js", "jquery.min.js"),
    ("mathjax", "MathJax.js", "mathjax/MathJax.js"),
    ("mathjax", "config", "mathjax/config"),
    ("mathjax", "extensions", "mathjax/extensions"),
    ("mathjax", "jax/input/TeX", "mathjax/jax/input/TeX"),
    ("mathjax", "jax/output/CommonHTML", "mathjax/jax/output/CommonHTML"),
    ("mathjax", "jax/element", "mathjax/jax/element"),
    ("mathjax", "localization", "mathjax/localization"),
    ("mathjax", "fonts/HTML-CSS/TeX/woff", "mathjax/fonts/HTML-CSS/TeX/woff"),
]
# output types shown in the decks, best first: the saved PNG of a widget before its (dead) view
DISPLAY_PRIORITY = ["text/html", "application/pdf", "text/latex", "image/svg+xml", "image/png",
                    "image/jpeg", "text/markdown", "text/plain"]


def fail(msg: str) -> None:
    print(f"build_slides: {msg}", file=sys.stderr)
    sys.exit(2)


def copy_assets(vendor: Path, out: Path) -> None:
    """Copy the npm files the decks load into ``out/_static`` (replacing an older copy)."""
    static = out / STATIC
    tmp = Path(tempfile.mkdtemp(prefix=".static-", dir=out))
    try:
        for package, src, dest in ASSETS:
            path = vendor / package / src
            if not path.exists():
                fail(f"{path} is missing: run 'make slides' (it installs the npm packages of "
                     f"scripts/slides/package.json into {vendor.parent})")
            target = tmp / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                shutil.copytree(path, target, ignore=shutil.ignore_patterns("*.map", "*.esm.js"))
            else:
                shutil.copy2(path, target)
        (tmp / "nmfedu-slides.css").write_text(CSS)
        if static.exists():
            shutil.rmtree(static)
        tmp.rename(static)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


# Figures fit the slide; long slides scroll (reveal_scroll) instead of being cut off.
CSS = """\
.reveal .jp-OutputArea-output img { max-width: 100%; max-height: 560px; width: auto; height: auto; }
.reveal h1, .reveal h2, .reveal h3 { text-transform: none; }
.reveal section { text-align: left; }
.reveal .jp-RenderedHTMLCommon table { font-size: 0.7em; margin: 0.5em 0; }
.reveal .jp-RenderedHTMLCommon p, .reveal .jp-RenderedHTMLCommon li { font-size: 0.75em; line-height: 1.35; }
.reveal .jp-RenderedHTMLCommon li li, .reveal .jp-RenderedHTMLCommon li p { font-size: 1em; }
.reveal .jp-RenderedHTMLCommon h1 { font-size: 1.6em; }
.reveal .jp-RenderedHTMLCommon h2 { font-size: 1.25em; }
.reveal .jp-RenderedHTMLCommon h3 { font-size: 1.05em; }
.reveal pre { font-size: 0.5em; }
"""


def exporter(include_input: bool):
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    c = Config()
    c.SlidesExporter.template_name = "nmfedu_reveal"
    c.SlidesExporter.extra_template_basedirs = [str(TEMPLATE_DIR)]
    c.SlidesExporter.reveal_url_prefix = f"{STATIC}/reveal.js"
    c.SlidesExporter.reveal_theme = "white"
    c.SlidesExporter.reveal_transition = "none"
    c.SlidesExporter.reveal_scroll = True
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.require_js_url = f"{STATIC}/require.js"
    c.SlidesExporter.jquery_url = f"{STATIC}/jquery.min.js"
    c.SlidesExporter.mathjax_url = f"{STATIC}/mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    c.SlidesExporter.exclude_input = not include_input
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    c.NbConvertBase.display_data_priority = DISPLAY_PRIORITY
    return SlidesExporter(config=c)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*", help="default: notebooks/[0-9]*.ipynb")
    ap.add_argument("--out", default="build/slides", help="output directory (default build/slides)")
    ap.add_argument("--vendor", default="build/slides-vendor/node_modules",
                    help="node_modules with reveal.js, requirejs, jquery, mathjax")
    ap.add_argument("--input", action="store_true", help="keep the code cells' input")
    args = ap.parse_args(argv)
    import nbformat

    nbs = [Path(p) for p in (args.notebooks or sorted(glob.glob(str(REPO / "notebooks" / "[0-9]*.ipynb"))))]
    for nb in nbs:
        if not nb.is_file():
            fail(f"notebook {nb} not found")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(Path(args.vendor), out)
    exp = exporter(args.input)
    for nb_path in nbs:
        nb = nbformat.read(nb_path, as_version=4)
        nb.metadata.pop("widgets", None)  # no widget manager in a static deck: the PNGs show
        body, _ = exp.from_notebook_node(nb, resources={"metadata": {"name": nb_path.stem}})
        # links between notebooks become links between decks
        body = re.sub(r'href="(\d\d_[A-Za-z0-9_]+)\.ipynb', r'href="\1.slides.html', body)
        body = body.replace("</head>", f'<link rel="stylesheet" href="{STATIC}/nmfedu-slides.css">\n</head>', 1)
        target = out / f"{nb_path.stem}.slides.html"
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".html", dir=out)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)
        os.replace(tmp, target)
        n = sum(1 for c in nb.cells if c.metadata.get("slideshow", {}).get("slide_type") in ("slide", "subslide"))
        print(f"{target} ({n} slides and subslides, {len(body) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
