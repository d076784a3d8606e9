"""Draw the README's picture: a score-informed NMF of the toy recording (docs/decomposition.png).

Usage: python scripts/make_readme_figure.py
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import nmfedu  # noqa: E402
from nmfedu import constraints, data, plot, spectrogram  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main():
    piece = data.load(data.TOY)
    V = spectrogram.magnitude(piece.x)
    W0, H0, labels = constraints.build_constraints(piece.notes, *V.shape)
    result = nmfedu.nmf(V, W0.shape[1], W0=W0, H0=H0, n_iter=100, tol=0)
    fig, _, _ = plot.plot_decomposition(V, result.W, result.H, WH=True, labels=labels, fmax=2000,
                                        log=True, log_factor=10)
    fig.suptitle("Score-informed NMF of a few piano notes: templates W, activations H, V ≈ WH")
    out = ROOT / "docs" / "decomposition.png"
    fig.savefig(out, dpi=80, bbox_inches="tight")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
