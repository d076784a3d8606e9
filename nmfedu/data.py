"""The bundled music: piano excerpts with known ground truth, available offline.

Every piece in the repository's ``data/`` folder has a mix, the two hands rendered
separately (the *stems*, the ground truth of the separation) and the score as a note
table whose timing matches the audio. They were rendered from public-domain scores in
music21's corpus with FluidSynth and the FluidR3_GM soundfont by ``make data``; see
``data/README.md`` for sources, bars and licences. Nothing is downloaded: loading needs
only soundfile, numpy and pandas.

- ``toy``: five piano notes and a chord (pitches 55, 59, 62, 67, 71); notebooks 01–02;
- ``mozart_sonata`` (easy): the hands use disjoint registers;
- ``schumann_polonaise`` (moderate, :data:`DEFAULT_PIECE`): the left hand reaches into the
  right hand's register, five pitches are played by both hands;
- ``chopin_mazurka`` (hard): both hands play the same pitches (B#3, C#4, A#3) in turn;
- ``joplin_rag`` (moderate): stride left hand, syncopated right-hand chords.

Used by: notebooks 01–08 (``load(TOY)`` in 01–02, ``load(DEFAULT_PIECE)`` in 04 and 07).

Examples
--------
>>> from nmfedu import data
>>> piece = data.load(data.TOY)
>>> piece.sr, piece.x.dtype.name, sorted(int(p) for p in piece.notes["Pitch"].unique())[:3]
(22050, 'float64', [55, 59, 62])
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import score as _score

__all__ = ["Piece", "names", "load", "data_dir", "catalog", "DEFAULT_PIECE", "TOY", "EASY",
           "SHARED_PITCHES"]

TOY = "toy"
#: The piece the separation notebooks (04, 07) use: moderate difficulty, the left hand
#: reaches into the right hand's register and five pitches are played by both hands.
DEFAULT_PIECE = "schumann_polonaise"
#: The easy excerpt (the hands' registers do not overlap).
EASY = "mozart_sonata"
#: The excerpt whose hands play the same pitches in the same register.
SHARED_PITCHES = "chopin_mazurka"

_ENV = "NMFEDU_DATA"


def data_dir() -> Path:
    """The folder with the bundled data: ``$NMFEDU_DATA`` if set, else the repository's
    ``data/`` next to the ``nmfedu`` package (the package is installed editable)."""
    env = os.environ.get(_ENV)
    d = Path(env) if env else Path(__file__).resolve().parent.parent / "data"
    if not (d / "pieces.json").is_file():
        raise FileNotFoundError(
            f"no bundled data found in {d} (expected {d / 'pieces.json'}); run 'make data' in "
            f"the repository, or set {_ENV} to the folder that holds pieces.json")
    return d


def catalog() -> dict:
    """Metadata of every bundled piece (the content of ``data/pieces.json``)."""
    with open(data_dir() / "pieces.json", encoding="utf-8") as f:
        return json.load(f)


def names() -> list[str]:
    """Names of the bundled pieces, toy set first, e.g. ``['toy', 'mozart_sonata', ...]``.

    Used by: notebook 00 (index), 04 (pick another piece), tests.
    """
    return list(catalog())


@dataclass
class Piece:
    """One bundled piece: audio, score, ground-truth stems and where they came from.

    Attributes
    ----------
    name : str
        Key for :func:`load`.
    x : ndarray of float64, shape (L,)
        The mix, mono, in [-1, 1].
    sr : int
        Sample rate (22050).
    notes : pandas.DataFrame
        The score as a note table (``Start, Duration, Pitch, Velocity, Instrument``;
        ``Instrument`` is ``"left"`` or ``"right"``), timed like the audio.
    stems : dict of str → ndarray
        ``"left"`` and ``"right"`` hand, float64 like ``x``; ``x ≈ left + right`` to within
        16-bit rounding (2 / 32768).
    paths : dict of str → Path
        ``"mix", "left", "right", "score_csv", "score_mid"``.
    title, composer, description : str
    difficulty : str
        ``"toy"``, ``"easy"``, ``"moderate"`` or ``"hard"``.
    shared_pitches : list of int
        MIDI pitches played by both hands in this excerpt (empty for the easy one).
    bars : tuple of int or None
        First and last bar of the excerpt in the score (``None`` for the toy set).
    licence : str
        Licence of the files and of the encoding they were made from (the polonaise is
        CC BY-SA 4.0; see ``data/README.md``).
    meta : dict
        Everything else recorded in ``data/pieces.json`` (corpus path, tempo, gain, …).
    """

    name: str
    x: np.ndarray
    sr: int
    notes: pd.DataFrame
    stems: dict = field(default_factory=dict)
    paths: dict = field(default_factory=dict)
    title: str = ""
    composer: str = ""
    description: str = ""
    difficulty: str = ""
    shared_pitches: list = field(default_factory=list)
    bars: tuple | None = None
    licence: str = ""
    meta: dict = field(default_factory=dict, repr=False)

    @property
    def duration(self) -> float:
        """Length of the audio in seconds."""
        return self.x.size / self.sr

    @property
    def is_easy(self) -> bool:
        """True for the excerpt whose hands use disjoint registers."""
        return self.difficulty == "easy"

    @property
    def has_shared_pitches(self) -> bool:
        """True if some pitch is played by both hands."""
        return bool(self.shared_pitches)

    def __repr__(self) -> str:
        return (f"Piece({self.name!r}: {self.composer} — {self.title}; {self.duration:.2f} s at "
                f"{self.sr} Hz, {len(self.notes)} notes, stems {sorted(self.stems)}, "
                f"difficulty {self.difficulty!r})")


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    if not path.is_file():
        raise FileNotFoundError(f"missing bundled audio file {path}; run 'make data'")
    x, sr = sf.read(str(path), dtype="float64", always_2d=False)
    if x.ndim != 1:
        x = x.mean(axis=1)
    return x, int(sr)


def load(name: str = DEFAULT_PIECE) -> Piece:
    """Load a bundled piece.

    Parameters
    ----------
    name : str
        One of :func:`names` (default :data:`DEFAULT_PIECE`).

    Returns
    -------
    Piece
        Audio (float64 mono), sample rate, note table, stems and file paths.

    Raises
    ------
    ValueError
        If ``name`` is not a bundled piece; the message lists the names.
    FileNotFoundError
        If the data folder or one of its files is missing.

    Used by: notebooks 01–08.

    Examples
    --------
    >>> piece = load("mozart_sonata")
    >>> piece.is_easy, sorted(piece.stems)
    (True, ['left', 'right'])
    """
    cat = catalog()
    if not isinstance(name, str) or name not in cat:
        raise ValueError(f"name must be one of {list(cat)}, got {name!r}")
    meta = cat[name]
    d = data_dir() / name
    files = meta["files"]
    paths = {key: d / fname for key, fname in files.items()}
    x, sr = _read_wav(paths["mix"])
    stems = {}
    for hand in ("left", "right"):
        if hand in paths and paths[hand].exists():
            s, sr_s = _read_wav(paths[hand])
            if sr_s != sr or s.size != x.size:
                raise ValueError(f"{paths[hand]}: expected {x.size} samples at {sr} Hz like "
                                 f"the mix, got {s.size} at {sr_s} Hz")
            stems[hand] = s
    notes = _score.read_csv(paths["score_csv"], duration=x.size / sr)
    bars = tuple(meta["bars"]) if meta.get("bars") else None
    return Piece(name=name, x=x, sr=sr, notes=notes, stems=stems, paths=paths,
                 title=meta.get("title", ""), composer=meta.get("composer", ""),
                 description=meta.get("description", ""), difficulty=meta.get("difficulty", ""),
                 shared_pitches=list(meta.get("shared_pitches", [])), bars=bars,
                 licence=meta.get("licence", ""), meta=meta)


def onset_rise(x, sr: int, notes, tolerance: float = 0.05, n_fft: int = 2048, hop: int = 64,
               lag: float = 0.03, n_harmonics: int = 6) -> np.ndarray:
    """How sharply the energy at each note's pitch rises at its ``Start``: a score/audio check.

    For every note, the power in narrow bands (±½ semitone, at least one bin) around
    harmonics ``1 … n_harmonics`` of its pitch is tracked with a fine-hop STFT; the rise is
    ``log10(E(t) / E(t − lag))``, maximised over the harmonics and over
    ``t ∈ [Start − 10 ms, Start + tolerance]``. A correctly timed note rises by far more than
    0.3 (energy × 2) in the bundled excerpts when ``x`` is the note's own hand; a score shifted
    by 100 ms fails for a large share of the notes.

    Parameters
    ----------
    x : ndarray, shape (L,)
        Mono audio (best: the stem of the hand the notes belong to).
    sr : int
        Sample rate of ``x``.
    notes : pandas.DataFrame
        Note table (see :mod:`nmfedu.score`).
    tolerance : float
        How late after ``Start`` (s) the rise may come.
    n_fft, hop : int
        STFT window and hop in samples.
    lag : float
        Time (s) over which the rise is measured.
    n_harmonics : int
        Harmonics considered.

    Returns
    -------
    ndarray of float, shape (n_notes,)
        One rise per row of ``notes`` (in their order).

    Used by: ``tests/test_data.py`` and ``scripts/make_data.py`` (alignment of every bundled
    score), notebook 01 (how a note's onset looks in the spectrogram).
    """
    import scipy.signal as ss

    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must be a non-empty mono signal (1-D array), got shape {x.shape}")
    if not (isinstance(sr, (int, np.integer)) and sr > 0):
        raise ValueError(f"sr must be a positive integer sample rate, got {sr!r}")
    if not tolerance > 0:
        raise ValueError(f"tolerance must be > 0 seconds, got {tolerance!r}")
    if not isinstance(notes, pd.DataFrame) or not {"Start", "Pitch"} <= set(notes.columns):
        raise ValueError("notes must be a note table (DataFrame with columns Start and Pitch)")
    f, t, Z = ss.stft(x, fs=sr, window="hann", nperseg=n_fft, noverlap=n_fft - hop,
                      boundary="zeros", padded=True)
    P = np.abs(Z) ** 2
    L = max(1, int(round(lag * sr / hop)))
    cache = {}
    out = np.empty(len(notes))
    for i, (start, pitch) in enumerate(zip(notes["Start"].to_numpy(float),
                                           notes["Pitch"].to_numpy(int))):
        if pitch not in cache:
            f0 = 440.0 * 2.0 ** ((pitch - 69) / 12)
            rows = []
            for h in range(1, n_harmonics + 1):
                fh = h * f0
                if fh > sr / 2:
                    break
                width = max(fh * (2 ** (0.5 / 12) - 1), sr / n_fft)
                rows.append(P[np.abs(f - fh) <= width].sum(axis=0))
            E = np.array(rows)
            e = np.log10(E + 1e-6 * E.max(axis=1, keepdims=True) + 1e-30)
            d = np.full(e.shape, -np.inf)
            d[:, L:] = e[:, L:] - e[:, :-L]
            cache[pitch] = d.max(axis=0)
        d = cache[pitch]
        w = (t >= start - 0.01) & (t <= start + tolerance)
        out[i] = d[w].max() if w.any() else -np.inf
    return out
