r"""Score-informed drum separation: NMFD with activations fixed to the drum score.

:func:`separate_drums` takes a drum recording and its drum score (a note table whose
``Instrument`` column names the stem of every hit, e.g. ``kick``, ``snare``, ``hihat``)
and returns one signal per instrument, by the steps of the piano separation:

1. STFT (:mod:`nmfedu.spectrogram`) and magnitude :math:`V`;
2. score-informed start (:func:`nmfedu.nmfd.drum_activations`): H is zero except within
   a frame of each hit of its instrument, so it stays zero;
   templates from the mixture frames after each drum's hits
   (:func:`nmfedu.nmfd.drum_templates`);
3. factorise: NMFD (:func:`nmfedu.nmfd.nmfd`, T frames per template) or, for
   comparison, plain NMF (``T = 1``: one spectral template per drum);
4. the model spectrogram of every instrument :math:`\Lambda_r`;
5. reconstruction (:mod:`nmfedu.reconstruction`): α-Wiener masks on the mixture's STFT
   (default α = 2; the stems add up to the mixture) or resynthesis.

The method follows Dittmar & Müller, "Reverse engineering the Amen break —
score-informed separation and restoration applied to drum recordings", IEEE/ACM TASLP
24(9), 2016, doi:10.1109/TASLP.2016.2567645.

:func:`load_groove` and :func:`groove_names` read the bundled grooves (``data/grooves``,
rendered by ``make data``).

Notebooks: 09_applications. Command line: ``python -m nmfedu drums``.

Examples
--------
>>> g = load_groove("rock_groove")
>>> sorted(g.stems), g.sr
(['hihat', 'kick', 'snare'], 22050)
>>> stems = separate_drums(g.x, g.sr, g.notes, n_iter=5)
>>> sorted(stems)
['hihat', 'kick', 'snare']
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import nmfd as _nmfd
from . import reconstruction as _rec
from . import spectrogram as _spec

__all__ = ["separate_drums", "DrumSeparation", "DRUM_DEFAULTS", "check_drum_score",
           "load_groove", "groove_names"]

#: Defaults of :func:`separate_drums` (chosen on the bundled grooves; the benchmark checks
#: them on a groove rendered with another drum kit).
DRUM_DEFAULTS = dict(T=10, n_iter=100, beta="kl", alpha=2.0, before=1, after=1,
                     init="score", fix_W=False, reconstruction="mask", split_pitches=True)


def check_drum_score(hits, duration: float | None = None, by: str = "Instrument",
                     instruments=None):
    """Validate a drum score: every Pitch a GM drum note, known instruments, some hits.

    Hits after ``duration`` seconds are dropped with a warning (clipped).

    Raises
    ------
    ValueError
        No hits, an unknown instrument (not in ``instruments`` when given), or a Pitch
        that is not a General MIDI drum note.

    Examples
    --------
    >>> check_drum_score(pd.DataFrame({"Start": [], "Pitch": [], "Instrument": []}))
    Traceback (most recent call last):
    ...
    ValueError: hits: the drum score has no hits
    """
    from . import score as _score

    if not isinstance(hits, pd.DataFrame):
        raise ValueError("hits must be a note table (DataFrame with Start, Pitch, Instrument)")
    if len(hits) == 0:
        raise ValueError("hits: the drum score has no hits")
    missing = {"Start", "Pitch", by} - set(hits.columns)
    if missing:
        raise ValueError(f"hits must have the columns Start, Pitch and {by}; missing {sorted(missing)}")
    hits = hits.copy()
    if "Duration" not in hits:
        hits["Duration"] = 0.1
    if "Velocity" not in hits:
        hits["Velocity"] = 100
    for i, (p, lab) in enumerate(zip(hits["Pitch"], hits[by])):
        if pd.isna(lab) or str(lab).strip() == "":
            raise ValueError(f"hits row {i + 1}: {by} is empty; every hit needs an instrument label")
        try:
            _nmfd.drum_class(p)
        except (ValueError, TypeError):
            raise ValueError(f"hits row {i + 1}: unknown instrument: Pitch {p!r} is not a General "
                             f"MIDI drum note (35–59, e.g. 36 kick, 38 snare, 42/46 hi-hat)") from None
        if instruments is not None and str(lab) not in [str(s) for s in instruments]:
            raise ValueError(f"hits row {i + 1}: unknown instrument {lab!r}; expected one of "
                             f"{list(instruments)}")
    starts = hits["Start"].to_numpy(float)
    if np.any(~np.isfinite(starts)) or np.any(starts < 0):
        raise ValueError("hits: Start must be finite and >= 0 seconds")
    if duration is not None:
        late = starts >= duration
        if late.any():
            warnings.warn(f"hits: {int(late.sum())} hit(s) start at or after the end of the audio "
                          f"({duration:.3f} s) and were dropped", UserWarning, stacklevel=2)
            hits = hits[~late]
            if len(hits) == 0:
                raise ValueError("hits: no hit starts before the end of the audio")
    hits = hits.sort_values(["Start", "Pitch"], kind="stable").reset_index(drop=True)
    return hits


@dataclass
class DrumSeparation:
    """Everything :func:`separate_drums` computed (``return_details=True``)."""

    signals: dict
    labels: list
    components: list
    owner: list
    W: np.ndarray
    H: np.ndarray
    H0: np.ndarray
    models: dict
    loss: list
    V: np.ndarray
    X: np.ndarray
    params: dict = field(default_factory=dict)


def separate_drums(x, sr, hits, *, by: str = "Instrument", T: int = DRUM_DEFAULTS["T"],
                   n_iter: int = DRUM_DEFAULTS["n_iter"], beta: str = DRUM_DEFAULTS["beta"],
                   alpha: float = DRUM_DEFAULTS["alpha"], before: int = DRUM_DEFAULTS["before"],
                   after: int = DRUM_DEFAULTS["after"], init: str = DRUM_DEFAULTS["init"],
                   fix_W: bool = DRUM_DEFAULTS["fix_W"],
                   reconstruction: str = DRUM_DEFAULTS["reconstruction"],
                   split_pitches: bool = DRUM_DEFAULTS["split_pitches"], instruments=None,
                   n_fft: int = _spec.N_FFT, hop_length: int = _spec.HOP_LENGTH, seed=0,
                   return_details: bool = False):
    r"""Split a drum recording into one signal per instrument of its drum score.

    Parameters
    ----------
    x : ndarray (L,)
        Mono drum recording.
    sr : float
        Sample rate of ``x`` (the STFT's frame times depend on it).
    hits : pandas.DataFrame
        Drum score (note table: ``Start`` s, ``Pitch`` GM drum note, ``Instrument`` stem
        name); hits past the end of ``x`` are dropped with a warning.
    by : str
        Column with the stem names.
    T : int
        Template length in frames (≥ 1); ``T = 1`` is plain score-informed NMF.
    n_iter : int
        Multiplicative-update iterations.
    beta : {"kl", "frobenius"}
    alpha : float
        Mask exponent (> 0): 1 magnitude ratio, 2 Wiener.
    before, after : int
        Frames around each hit where the activation may be nonzero.
    init : {"score", "random"}
        Templates from the mixture after each drum's hits (``score``) or random (seeded).
    fix_W : bool
        Keep the initial templates.
    reconstruction : {"mask", "resynthesis", "griffin_lim"}
        α-Wiener masks (the stems add up to the mixture), the model with the mixture's
        phase, or the model with a Griffin–Lim phase.
    split_pitches : bool
        One component per (instrument, drum note), e.g. closed (42) and open (46) hi-hat
        with their own templates, both in the hi-hat stem; False: one per instrument.
    instruments : list of str, optional
        Allowed stem names; a hit with another name is an error.
    n_fft, hop_length : int
        STFT parameters.
    seed : int
        Seed of the random templates (``init="random"``).
    return_details : bool
        Return a :class:`DrumSeparation` instead of the dict of signals.

    Returns
    -------
    dict instrument → ndarray (L,), or DrumSeparation

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> hits = pd.DataFrame({"Start": [0.1, 0.6], "Pitch": [36, 38], "Instrument": ["kick", "snare"]})
    >>> x = np.random.default_rng(0).standard_normal(22050) * 0.01
    >>> out = separate_drums(x, 22050, hits, T=4, n_iter=3)
    >>> sorted(out), out["kick"].shape
    (['kick', 'snare'], (22050,))
    """
    from .separation import to_mono

    x = to_mono(x)
    if not np.isfinite(sr) or sr <= 0:
        raise ValueError(f"sr must be a positive sample rate in Hz, got {sr!r}")
    T = _nmfd._check_T(T)
    _rec._check_alpha(alpha)
    if reconstruction not in ("mask", "resynthesis", "griffin_lim"):
        raise ValueError(f"reconstruction must be 'mask', 'resynthesis' or 'griffin_lim', "
                         f"got {reconstruction!r}")
    if init not in ("score", "random"):
        raise ValueError(f"init must be 'score' or 'random', got {init!r}")
    hits = check_drum_score(hits, duration=x.size / sr, by=by, instruments=instruments)
    labels = list(dict.fromkeys(hits[by].astype(str)))
    # one component per (instrument, drum note) when split_pitches: an open and a closed
    # hi-hat sound differently and get their own templates; both belong to the hi-hat stem
    key = hits[by].astype(str)
    if split_pitches:
        key = key + "/" + hits["Pitch"].astype(int).astype(str)
    hits = hits.assign(_component=key)
    components = list(dict.fromkeys(key))
    first = dict(zip(key[::-1], hits[by].astype(str)[::-1]))      # component → its stem
    owner = [first[c] for c in components]
    X = _spec.stft(x, n_fft=n_fft, hop_length=hop_length)
    V = np.abs(X)
    N = V.shape[1]
    H0 = _nmfd.drum_activations(hits, N, components, sr=sr, hop_length=hop_length,
                                before=before, after=after, by="_component")
    if init == "score":
        W0 = _nmfd.drum_templates(V, hits, components, T, sr=sr, hop_length=hop_length,
                                  by="_component")
    else:
        W0 = np.random.default_rng(seed).random((T, V.shape[0], len(components))) + 1e-3
    # scale H0 so that the model starts at the level of V (MU converge faster)
    L0 = _nmfd.model(W0, H0)
    H0 = H0 * (V.sum() / max(L0.sum(), 1e-12))
    res = _nmfd.nmfd(V, W0=W0, H0=H0, n_iter=n_iter, beta=beta, fix_W=fix_W)
    models = {}
    for lab in labels:
        rows = [r for r, o in enumerate(owner) if o == lab]
        models[lab] = _nmfd.model(res.W[:, :, rows], res.H[rows])
    if reconstruction == "mask":
        signals = _rec.wiener(X, models, alpha=alpha, length=x.size, n_fft=n_fft,
                              hop_length=hop_length)
    elif reconstruction == "resynthesis":
        signals = _rec.resynthesize(models, X, length=x.size, n_fft=n_fft, hop_length=hop_length)
    else:
        signals = _rec.resynthesize(models, length=x.size, method="griffin_lim", n_fft=n_fft,
                                    hop_length=hop_length, seed=seed)
    if not return_details:
        return signals
    params = dict(T=T, n_iter=n_iter, beta=beta, alpha=alpha, before=before, after=after,
                  init=init, fix_W=fix_W, reconstruction=reconstruction,
                  split_pitches=split_pitches, n_fft=n_fft,
                  hop_length=hop_length, seed=seed)
    return DrumSeparation(signals=signals, labels=labels, components=components,
                          owner=owner, W=res.W, H=res.H, H0=H0,
                          models=models, loss=res.loss, V=V, X=X, params=params)


# ----------------------------------------------------------------------------- bundled data
@dataclass
class Groove:
    """A bundled drum groove: mix ``x``, ``sr``, drum score ``notes``, ``stems`` by
    instrument (``x`` is exactly their sum), metadata."""

    name: str
    x: np.ndarray
    sr: int
    notes: pd.DataFrame
    stems: dict
    title: str = ""
    description: str = ""
    meta: dict = field(default_factory=dict, repr=False)

    @property
    def duration(self) -> float:
        return self.x.size / self.sr


def _catalog():
    from .data import data_dir

    p = data_dir() / "applications.json"
    if not p.is_file():
        raise FileNotFoundError(f"no drum grooves found ({p} is missing); run 'make data'")
    return json.loads(p.read_text(encoding="utf-8"))


def groove_names() -> list:
    """Names of the bundled drum grooves, e.g. ``['rock_groove', 'funk_groove']``."""
    return list(_catalog()["grooves"])


def load_groove(name: str = "rock_groove") -> Groove:
    """Load a bundled drum groove (see ``data/README.md``)."""
    import soundfile as sf

    from . import score as _score
    from .data import data_dir

    cat = _catalog()["grooves"]
    if not isinstance(name, str) or name not in cat:
        raise ValueError(f"name must be one of {list(cat)}, got {name!r}")
    meta = cat[name]
    d = data_dir() / "grooves" / name
    files = meta["files"]
    x, sr = sf.read(str(d / files["mix"]), dtype="float64")
    stems = {}
    for inst in ("kick", "snare", "hihat"):
        s, _ = sf.read(str(d / files[inst]), dtype="float64")
        stems[inst] = s
    notes = _score.read_csv(d / files["score_csv"], duration=x.size / sr)
    return Groove(name=name, x=x, sr=int(sr), notes=notes, stems=stems, title=meta["title"],
                  description=meta["description"], meta=meta)
