r"""Export the executed notebooks, in series order, to a static site that works with no network.

Usage: python scripts/build_html.py [--out build/html] [--math mathjax|mathml]

Writes one HTML page per notebook found as ``notebooks/[0-9]*.ipynb`` (figures, audio players
and the stored pictures of the widgets included) and an ``index.html`` that lists them in the
order of their file names, titled by each notebook's first heading. The site opens from
``build/html/index.html`` (``file://``, no server) and makes no network request:

- **Math** is typeset by MathJax 2.7.9, copied at build time from the jupyter-server-mathjax
  package (PyPI; the MathJax files Jupyter itself ships: TeX input, HTML-CSS output, STIX-Web
  fonts) into ``mathjax/`` next to the pages, without its 3.7 MB accessibility explorer;
  nbconvert's MathJax script points there. MathJax 2 loads its parts with ``<script>`` tags
  and ``@font-face`` from a subfolder, both of which work from ``file://``.
  The alternative, ``--math mathml``, converts TeX to MathML at build time with latex2mathml
  and needs no script. Measured with ``benchmarks/bench_site_math.py`` on this series (607
  formulas, 8 pages, headless Chromium 156, file://, network cut, shared 2-core machine):
  MathML is on screen at ``load`` (0.1-0.9 s) and adds nothing to the 10.0 MB site; MathJax
  finishes 1.1-4.0 s after navigation and adds 2.1 MB (benchmarks/results/bench_site_math_*). MathJax is the default because it is
  the better page to read (screenshots build/bench_site/*-01.png): native MathML here set
  display sums with their limits as sub/superscripts, did not stretch ``\left( … \right)``
  and fell back to whatever math font the reader's system has (none on a bare Debian),
  while MathJax lays formulas out as TeX does (limits under and over sums, stretchy
  delimiters), with its own fonts on every machine, and offers zoom in its context menu. Both convert every formula of the series without error.
- **Widgets** need a kernel; the site shows each widget's stored picture (the ``image/png``
  that ``nmfedu.widgets`` stores next to the widget view) with a one-line note, instead of
  loading the widget manager from a CDN. require.js and mermaid are not loaded at all.
- **Links** between notebooks (``NN_name.ipynb``) become ``NN_name.html``; links to other
  repository files (``../LICENSE``) are copied into the site and pointed at the copy.

The pages are checked by ``tests/test_site.py`` in headless Chromium with the network blocked.
"""
from __future__ import annotations

import argparse
import copy
import html
import re
import shutil
import sys
from pathlib import Path

import nbformat
from jinja2 import pass_context
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "html_templates"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ('<p class="nmfedu-static-note"><em>A picture of an interactive figure: open the '
               'notebook in JupyterLab (<code>make lab</code>) or on Binder to move its '
               'controls.</em></p>')


def title_of(nb, fallback: str) -> str:
    """The text of the notebook's first Markdown heading (without emphasis marks)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if match:
                return re.sub(r"[*_`]", "", match.group(1)).strip()
    return fallback


def notebooks(root: Path = ROOT) -> list[Path]:
    """The series: every ``notebooks/[0-9]*.ipynb``, in file-name (= series) order."""
    return sorted((root / "notebooks").glob("[0-9]*.ipynb"))


class BuildError(Exception):
    """The site cannot be built; the message says what to do (one line)."""


# --- math -------------------------------------------------------------------------------------

def tex_to_mathml(tex: str, display: bool) -> str:
    try:
        from latex2mathml.converter import convert
    except ImportError:
        raise BuildError("--math mathml needs the latex2mathml package: "
                         "run '.venv/bin/pip install latex2mathml'") from None

    mathml = convert(html.unescape(tex).strip(), display="block" if display else "inline")
    # HTML needs no namespace on <math>; without it nbconvert's heading anchors (ElementTree)
    # keep the element name as it is instead of writing <ns0:math>
    return mathml.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "", 1)


class MathMLRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, writing MathML where it would write ``$…$`` for MathJax."""

    def block_math(self, body: str) -> str:
        return tex_to_mathml(body, display=True)

    def inline_math(self, body: str) -> str:
        return tex_to_mathml(body, display=False)

    def latex_environment(self, name: str, body: str) -> str:
        return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


class OfflineExporter(HTMLExporter):
    """The lab template without CDN scripts; Markdown math as MathML when ``mathml`` is set."""

    mathml = True

    @pass_context
    def markdown2html(self, context, source):
        if not self.mathml:
            return super().markdown2html(context, source)
        cell = context.get("cell", {})
        renderer = MathMLRenderer(
            escape=False, attachments=cell.get("attachments", {}), embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text, exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options)
        return MarkdownWithMath(renderer=renderer).render(source)


# Only what the HTML-CSS output of MathJax 2.7.9 loads for this series' TeX (recorded in
# Chromium; the STIX-Web fonts it asks for are picked by the formulas, so all woff files stay).
MATHJAX_FILES = ["MathJax.js", "config/TeX-AMS-MML_HTMLorMML-full.js", "config/Safe.js", "extensions",
                 "jax/element", "jax/input", "jax/output/HTML-CSS", "fonts/HTML-CSS/STIX-Web/woff",
                 "LICENSE"]


def vendor_mathjax(out: Path) -> str:
    """Copy MathJax 2.7.9 from jupyter-server-mathjax into ``out/mathjax``; return its URL."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise BuildError("the site needs the jupyter-server-mathjax package (dev extra): "
                         "run 'make setup'") from None
    src = Path(jupyter_server_mathjax.__file__).parent / "static"
    dst = out / "mathjax"
    shutil.rmtree(dst, ignore_errors=True)
    for rel in MATHJAX_FILES:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        if (src / rel).is_dir():
            # the accessibility explorer (3.7 MB) is only loaded from MathJax's context menu
            shutil.copytree(src / rel, dst / rel, ignore=shutil.ignore_patterns("a11y"))
        else:
            shutil.copy2(src / rel, dst / rel)
    return "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"


# --- notebook preparation ---------------------------------------------------------------------

def static_widgets(nb):
    """Show each widget's stored picture instead of its (kernel-less, CDN-loaded) view."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                if any(k.startswith("image/") or k == "text/html" for k in data):
                    outputs.append(out)
                    outputs.append(nbformat.v4.new_output(
                        "display_data", data={"text/html": WIDGET_NOTE}))
                    continue
            outputs.append(out)
        cell.outputs = outputs
    return nb


def fix_links(body: str, out: Path) -> str:
    """``NN_x.ipynb`` → ``NN_x.html``; ``../path`` to a repository file → a copy in the site."""
    body = re.sub(r'href="(\d\d_[A-Za-z0-9_]+)\.ipynb', r'href="\1.html', body)

    def repo_file(match):
        rel = match.group(1)
        src = (ROOT / rel).resolve()
        if ROOT not in src.parents or not src.is_file():
            return match.group(0)
        dst = out / "files" / src.relative_to(ROOT)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        return f'href="files/{src.relative_to(ROOT).as_posix()}'

    return re.sub(r'href="\.\./([^"#?]+)', repo_file, body)


INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>nmfedu — NMF and nonnegative autoencoders for music audio</title>
<style>body{{font-family:sans-serif;max-width:48em;margin:2em auto;line-height:1.5}}</style></head>
<body>
  <h1>nmfedu</h1>
  <p>Nonnegative matrix factorization and nonnegative autoencoders for music audio decomposition:
  the notebooks in series order, executed, with figures and audio players. The pages work without
  a network; to move the widgets, open the notebooks in JupyterLab (<code>make lab</code>).</p>
  <ol>
{items}
  </ol>
  <p>Code: <a href="files/LICENSE">MIT licence</a>. Text and figures:
  <a href="files/LICENSE-CC-BY-4.0.md">CC BY 4.0</a>.</p>
</body></html>
"""


def build(out: Path, math: str = "mathjax", paths: list[Path] | None = None) -> list[Path]:
    """Write the site into ``out``; return the pages written (index first).

    The pages are written into a sibling folder first and moved into place at the end, so a
    failed build leaves the previous site as it was.
    """
    final = out
    out = final.with_name(final.name + ".partial")
    shutil.rmtree(out, ignore_errors=True)
    try:
        pages = _build(out, math, paths)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    shutil.rmtree(final, ignore_errors=True)
    out.rename(final)
    return [final / p.relative_to(out) for p in pages]


def _build(out: Path, math: str, paths: list[Path] | None) -> list[Path]:
    paths = notebooks() if paths is None else paths
    if not paths:
        raise BuildError("no notebooks found in notebooks/ (expected notebooks/NN_name.ipynb)")
    out.mkdir(parents=True, exist_ok=True)
    exporter = OfflineExporter(template_name="nmfedu_offline",
                               extra_template_basedirs=[str(TEMPLATES)])
    exporter.mathml = math == "mathml"
    if math == "mathjax":
        exporter.mathjax_url = vendor_mathjax(out)
    else:
        shutil.rmtree(out / "mathjax", ignore_errors=True)
    for name in ("LICENSE", "LICENSE-CC-BY-4.0.md"):
        (out / "files").mkdir(exist_ok=True)
        shutil.copy2(ROOT / name, out / "files" / name)
    entries, pages = [], []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
            raise BuildError(f"{path.name}: has no stored outputs; run `make notebooks` first")
        body, _ = exporter.from_notebook_node(
            static_widgets(nb), resources={"metadata": {"name": path.stem}})
        page = out / f"{path.stem}.html"
        page.write_text(fix_links(body, out), encoding="utf-8")
        entries.append((path.stem, title_of(nb, path.stem)))
        pages.append(page)
        print(f"wrote {page.name}")
    # each item numbered by its file name, so a gap in the numbering shows as one
    items = "\n".join(f'    <li value="{int(re.match(r"[0-9]+", stem).group(0))}"><a href="{stem}.html">'
                      f'{html.escape(title)}</a></li>' for stem, title in entries)
    index = out / "index.html"
    index.write_text(INDEX.format(items=items), encoding="utf-8")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote index.html ({len(entries)} notebooks, math as {math}; site {size / 1e6:.1f} MB)")
    return [index] + pages


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "html")
    parser.add_argument("--math", choices=["mathjax", "mathml"], default="mathjax",
                        help="a local copy of MathJax 2.7.9 (default) or TeX → MathML at build time")
    args = parser.parse_args(argv)
    try:
        build(args.out.resolve(), args.math)
    except BuildError as exc:
        print(f"build_html.py: {exc}", file=sys.stderr)
        return 2
    print(f"site in {args.out}: open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
