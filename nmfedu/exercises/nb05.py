"""Solutions to the exercises of notebook 05 (score–audio synchronisation).

Each function prints its answer and returns the numbers; they build the performed version
of the notebook themselves (:func:`nmfedu.demos.nb05.performed`).

Exercises
---------
1. :func:`without_onset_features` — align with chroma only (``w_onset=0``): what do the
   onset features add?
2. :func:`without_refinement` — the global path alone (``refine=False``) against the per-note
   refinement, per hand.
3. :func:`skipped_bar` — the performer skips a passage the score has: what happens to the
   notes of the passage and to those after it?
"""
from __future__ import annotations

import numpy as np

__all__ = ["without_onset_features", "without_refinement", "skipped_bar"]


def _errors(table, true):
    from nmfedu import synchronization as sync

    e = sync.onset_errors(table, true) * 1000
    return float(np.median(e)), float(np.percentile(e, 95))


def without_onset_features(rubato: float = 0.15):
    """Onset errors (median, p95 in ms) of the global alignment with and without onset features."""
    from nmfedu import synchronization as sync
    from nmfedu.demos import nb05 as demo

    piece, mix, stems, true, warp = demo.performed(rubato)
    out = {}
    for w in (0.0, 2.0):
        a = sync.align(mix, piece.sr, piece.notes, w_onset=w, refine=False, check=False)
        out[w] = _errors(a.notes, true)
        print(f"w_onset = {w:g}: global onset error median {out[w][0]:.0f} ms, p95 {out[w][1]:.0f} ms")
    print("Chroma alone knows which pitch classes sound, not when a note starts: the onset features "
          "pin the path to the attacks.")
    return out


def without_refinement(rubato: float = 0.15):
    """Onset errors per hand of the global path and after the per-note refinement."""
    from nmfedu import synchronization as sync
    from nmfedu.demos import nb05 as demo

    piece, mix, stems, true, warp = demo.performed(rubato)
    a = sync.align(mix, piece.sr, piece.notes)
    glob = a.notes.assign(Start=a.global_onsets)
    out = {}
    for hand in ("left", "right"):
        t = true[true["Instrument"] == hand]
        out[hand] = dict(global_=_errors(glob[glob["Instrument"] == hand], t),
                         refined=_errors(a.notes[a.notes["Instrument"] == hand], t))
        print(f"{hand:5s} hand: global median {out[hand]['global_'][0]:.0f} ms (p95 "
              f"{out[hand]['global_'][1]:.0f}), refined median {out[hand]['refined'][0]:.0f} ms "
              f"(p95 {out[hand]['refined'][1]:.0f})")
    return out


def skipped_bar(start: float = 2.25, end: float = 4.25):
    """Cut the passage [start, end) s (notated time) out of the synchronised recording and align
    the full score: the DTW must map the skipped notes somewhere."""
    from nmfedu import data
    from nmfedu import synchronization as sync

    piece = data.load("mozart_sonata")
    sr = piece.sr
    a, b = int(start * sr), int(end * sr)
    cut = np.concatenate([piece.x[:a], piece.x[b:]])
    try:
        al = sync.align(cut, sr, piece.notes, check=False)
    except ValueError as err:
        print("refused:", err)
        return None
    src = al.notated.iloc[al.info["rows"]]["Start"].to_numpy()     # notated onset of each row
    got = al.notes["Start"].to_numpy()
    skipped = (src >= start) & (src < end)
    before, after = src < start, src >= end
    err_before = np.abs(got[before] - src[before])
    err_after = np.abs(got[after] - (src[after] - (end - start)))
    print(f"{skipped.sum()} notes of the skipped passage were placed between "
          f"{got[skipped].min():.2f} and {got[skipped].max():.2f} s (squeezed around the cut at "
          f"{start:.2f} s);")
    print(f"onset error of the notes played before the cut: median {np.median(err_before) * 1000:.0f} ms, "
          f"p95 {np.percentile(err_before, 95) * 1000:.0f} ms; after it: median "
          f"{np.median(err_after) * 1000:.0f} ms, p95 {np.percentile(err_after, 95) * 1000:.0f} ms; "
          f"fit after alignment {al.fit_after.fit:.2f}")
    print("The aligner assumes every notated note is played: edit the score (remove the skipped "
          "bars) before aligning.")
    return dict(skipped=got[skipped], before=err_before, after=err_after)
