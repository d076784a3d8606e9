"""The lecture path: slide metadata on every notebook, and the 90-minute plan of 00_index."""
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_slide_metadata(path):
    nb = nbformat.read(path, as_version=4)
    missing = [c.id for c in nb.cells if c.metadata.get("slideshow", {}).get("slide_type") not in TYPES]
    assert not missing, f"{path.name}: cells without a valid slideshow.slide_type: {missing[:5]}"
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "slide", "the title cell opens the deck"
    shown = [c for c in nb.cells if c.metadata["slideshow"]["slide_type"] in ("slide", "subslide")]
    assert len(shown) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_are_not_on_the_lecture_path(path):
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code" and ("# your answer here" in c.source or "SHOW_SOLUTIONS)" in c.source):
            assert c.metadata["slideshow"]["slide_type"] == "skip", f"{path.name}: exercise cell {c.id} on a slide"


def test_lecture_plan_adds_up_to_90_minutes_and_links_existing_notebooks():
    index = nbformat.read(NOTEBOOKS[0], as_version=4)
    cell = next(c for c in index.cells if c.source.startswith("## Lecture mode"))
    rows = [r for r in cell.source.splitlines() if re.match(r"\| \d+ \|", r)]
    minutes = [int(r.rstrip(" |").rsplit("|", 1)[1]) for r in rows]
    assert len(rows) >= 15 and sum(minutes) == 90
    names = {p.name for p in NOTEBOOKS}
    for link in re.findall(r"\]\((\d\d_[a-z_]+\.ipynb)\)", cell.source):
        assert link in names, f"the plan links {link}, which does not exist"


def _nav(cell_source):
    lines = [ln for ln in cell_source.splitlines() if re.match(r"^\[.*\]\(\d\d_[a-z_]+\.ipynb\)", ln)]
    return lines[-1] if lines else None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_navigation_at_top_and_bottom_agree_and_point_to_existing_notebooks(path):
    nb = nbformat.read(path, as_version=4)
    top, bottom = _nav(nb.cells[0].source), _nav(nb.cells[-1].source)
    assert top and bottom, f"{path.name}: navigation line missing at the top or the bottom"
    assert top == bottom, f"{path.name}: top {top!r} and bottom {bottom!r} differ"
    names = {p.name for p in NOTEBOOKS}
    for link in re.findall(r"\((\d\d_[a-z_]+\.ipynb)\)", top):
        assert link in names and link != path.name, f"{path.name}: navigation links {link}"
