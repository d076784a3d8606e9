"""Replace exact strings in the code cells (or, with --markdown, markdown cells) of a notebook.

Usage: python scripts/_nb_replace.py NOTEBOOK OLD NEW [--markdown]
Fails if OLD is not found. Keeps the notebook's JSON layout (indent 1, as Jupyter writes it).
"""
import json
import sys

path, old, new = sys.argv[1:4]
kind = "markdown" if "--markdown" in sys.argv[4:] else "code"
with open(path, encoding="utf-8") as fh:
    nb = json.load(fh)
count = 0
for cell in nb["cells"]:
    if cell["cell_type"] != kind:
        continue
    src = "".join(cell["source"])
    if old in src:
        count += src.count(old)
        src = src.replace(old, new)
        lines = src.splitlines(keepends=True)
        cell["source"] = lines
if not count:
    sys.exit(f"{path}: {old!r} not found in {kind} cells")
with open(path, "w", encoding="utf-8") as fh:
    json.dump(nb, fh, indent=1, ensure_ascii=False)
    fh.write("\n")
print(f"{path}: {count} replacement(s)")
