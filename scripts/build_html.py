"""Export the executed notebooks, in series order, to a static site.

Usage: python scripts/build_html.py --out build/html

Writes one HTML page per notebook (figures, audio players and stored widget state included) and
an index.html that lists them; links between notebooks (``NN_name.ipynb``) become ``NN_name.html``,
so the site can be hosted as it is on a course page.
"""
from __future__ import annotations

import argparse
import html
import re
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]


def title_of(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if match:
                return re.sub(r"[*_`]", "", match.group(1)).strip()
    return fallback


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "html")
    args = parser.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    paths = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    if not paths:
        print("no notebooks found in notebooks/", file=sys.stderr)
        return 1
    exporter = HTMLExporter(template_name="lab")
    entries = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
            print(f"{path.name}: has no stored outputs; run `make notebooks` first", file=sys.stderr)
            return 1
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        body = re.sub(r'href="(\d\d_[A-Za-z0-9_]+)\.ipynb', r'href="\1.html', body)
        (out / f"{path.stem}.html").write_text(body, encoding="utf-8")
        entries.append((path.stem, title_of(nb, path.stem)))
        print(f"wrote {out / (path.stem + '.html')}")
    items = "\n".join(f'    <li><a href="{stem}.html">{html.escape(title)}</a></li>' for stem, title in entries)
    (out / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>nmfedu — NMF and nonnegative autoencoders for music audio</title>
<style>body{{font-family:sans-serif;max-width:48em;margin:2em auto;line-height:1.5}}</style></head>
<body>
  <h1>nmfedu</h1>
  <p>Nonnegative matrix factorization and nonnegative autoencoders for music audio decomposition:
  the notebooks in series order, executed, with figures and audio players.</p>
  <ol start="0">
{items}
  </ol>
  <p>Code: MIT licence. Text and figures: CC BY 4.0.</p>
</body></html>
""", encoding="utf-8")
    print(f"wrote {out / 'index.html'} ({len(entries)} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
