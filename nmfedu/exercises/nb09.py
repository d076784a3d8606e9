"""Exercise solutions for notebook 09 (applications: NMFD, mosaicing, reconstruction)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import drums, mosaic as mo, nmfd, spectrogram as sp
from ..evaluation import bss_eval
from ..factorization import nmf


def t1_is_nmf(seed: int = 0):
    """NMFD with T = 1 is NMF: one KL step of :func:`nmfedu.nmfd.nmfd` with a single shift
    equals one KL step of :func:`nmfedu.nmf` from the same start (both update H first)."""
    rng = np.random.default_rng(seed)
    V = rng.random((20, 30)) + 0.1
    W0, H0 = rng.random((20, 3)) + 0.1, rng.random((3, 30)) + 0.1
    a = nmfd.nmfd(V, W0=W0[None], H0=H0, n_iter=1, beta="kl")
    b = nmf(V, 3, W0=W0, H0=H0, n_iter=1, beta="kl", tol=0)
    same = bool(np.allclose(a.W[0], b.W) and np.allclose(a.H, b.H))
    print(f"T = 1 NMFD step == NMF step: {same}")
    return same


def template_length(name: str = "rock_groove", Ts=(1, 4, 7, 10, 13, 16)):
    """Mean SDR against the template length T. Up to about 10 frames (230 ms) longer
    templates capture more of each drum's decay; beyond the spacing of the groove's eighth
    notes (0.25 s ≈ 11 frames at 120 ♩/min) a kick template can absorb the hi-hat that
    regularly follows it, and the separation gets worse."""
    g = drums.load_groove(name)
    sdr = []
    for T in Ts:
        est = drums.separate_drums(g.x, g.sr, g.notes, T=T, n_iter=50)
        sdr.append(float(bss_eval(g.stems, est)["SDR"].mean()))
        print(f"T = {T:2d} ({T * sp.HOP_LENGTH / g.sr * 1000:3.0f} ms): mean SDR {sdr[-1]:.2f} dB")
    fig, ax = plt.subplots(figsize=(5, 3), constrained_layout=True)
    ax.plot(Ts, sdr, "o-")
    ax.axvline(0.25 * g.sr / sp.HOP_LENGTH, color="0.6", ls=":", label="one eighth note")
    ax.set_xlabel("Template length T (frames)")
    ax.set_ylabel("Mean SDR (dB)")
    ax.legend()
    plt.show()
    return dict(zip(Ts, sdr))


def let_it_beat(name: str = "funk_groove"):
    """Mosaicing with a drum groove as the source: the piano target rebuilt from drum
    frames. Measured: the final KL divergence is *lower* than with the bird tweets
    (2.4e5 against 4.5e5 with the default restrictions) — the groove has more frames of
    broadband noise, and sums of a few of them match the piano's magnitude spectra well
    enough. KL measures the fit of magnitudes, not whether the mosaic keeps the melody:
    drum frames have almost no pitch, so listen for what is left of the tune (the rhythm
    and loudness of the target survive; the pitches can only come from the hi-hat's and
    snare's noise bands)."""
    from ..demos import nb09 as demo

    m = demo.mosaic_inputs()
    g = drums.load_groove(name)
    Xs = sp.stft(g.x)
    res = mo.mosaic(m["V"], np.abs(Xs))
    birds = demo.run_mosaic()[0]
    print(f"final KL: drum source {res.kl[-1]:.3g}, bird source {birds.kl[-1]:.3g}")
    y = mo.resynthesize_mosaic(Xs, res.H, length=m["x_target"].size)
    from .. import audio
    from IPython.display import display

    display(audio.player(y, m["sr"], title="Mozart rebuilt from the funk groove"))
    return res
