"""Note tables: read, check and write the scores that inform the decompositions.

A *note table* is a :class:`pandas.DataFrame` with one row per note and the columns

============  ======================================================================
``Start``     onset in seconds (float, ≥ 0)
``Duration``  length in seconds (float, > 0)
``Pitch``     MIDI pitch (int, 0..127; 60 = C4, 69 = A4 = 440 Hz)
``Velocity``  MIDI velocity or any loudness number ≥ 0
``Instrument``  the group a note belongs to (str), e.g. ``"left"`` / ``"right"`` hand
============  ======================================================================

sorted by ``Start``, then ``Pitch``. On disk it is the CSV format of the FMP notebooks:
a header line ``Start;Duration;Pitch;Velocity;Instrument`` and one ``;``-separated line
per note, times in seconds. MIDI files are read with :mod:`pretty_midi`; a track's
(instrument's) name becomes the ``Instrument`` group.

Used by: notebook 01 (sheet music → piano roll), 03 and 04 (score-informed
constraints and separation), 07 (masks for the nonnegative autoencoder),
:mod:`nmfedu.data` (every bundled excerpt ships a ``score.csv`` and ``score.mid``),
:mod:`nmfedu.constraints` and :mod:`nmfedu.separation`.

This module imports no plotting or widget library.
"""
from __future__ import annotations

import csv
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["Start", "Duration", "Pitch", "Velocity", "Instrument"]
SEPARATOR = ";"

__all__ = ["COLUMNS", "SEPARATOR", "empty", "validate", "read_csv", "read_midi", "read",
           "write_csv", "write_midi"]


def empty() -> pd.DataFrame:
    """An empty note table with the right columns and dtypes."""
    return pd.DataFrame({
        "Start": pd.Series([], dtype=float),
        "Duration": pd.Series([], dtype=float),
        "Pitch": pd.Series([], dtype=int),
        "Velocity": pd.Series([], dtype=float),
        "Instrument": pd.Series([], dtype=object),
    })


# --------------------------------------------------------------------------- field checks
def _as_float(value, where, column, minimum=None, strict=False):
    """Parse one number; ``where`` names the row for the message."""
    expected = "a number"
    if minimum is not None:
        expected += f" {'>' if strict else '≥'} {minimum:g}"
    try:
        if isinstance(value, (bool, np.bool_)):
            raise TypeError
        v = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}, column {column}: expected {expected}, got {value!r}") from None
    if not math.isfinite(v) or (minimum is not None and (v <= minimum if strict else v < minimum)):
        raise ValueError(f"{where}, column {column}: expected {expected}, got {value!r}")
    return v


def _as_pitch(value, where):
    msg = f"{where}, column Pitch: expected an integer 0..127, got {value!r}"
    try:
        if isinstance(value, (bool, np.bool_)):
            raise TypeError
        v = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(msg) from None
    if not math.isfinite(v) or v != int(v) or not 0 <= v <= 127:
        raise ValueError(msg)
    return int(v)


def _as_group(value, where, column):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError(f"{where}, column {column}: expected a non-empty label, got {value!r}")
    s = str(value).strip()
    if not s:
        raise ValueError(f"{where}, column {column}: expected a non-empty label, got {value!r}")
    return s


def _sorted_table(rows) -> pd.DataFrame:
    if not rows:
        return empty()
    df = pd.DataFrame(rows, columns=COLUMNS)
    df = df.astype({"Start": float, "Duration": float, "Pitch": int, "Velocity": float,
                    "Instrument": object})
    df = df.sort_values(["Start", "Pitch"], kind="mergesort").reset_index(drop=True)
    return df


# --------------------------------------------------------------------------- validate
def validate(notes, duration: float | None = None, group: str = "Instrument",
             name: str = "notes") -> pd.DataFrame:
    """Check a note table and return a clean, sorted copy.

    Parameters
    ----------
    notes : pandas.DataFrame
        Columns ``Start, Duration, Pitch, Velocity, Instrument`` (extra columns are kept).
    duration : float, optional
        Length of the audio in seconds. Notes starting at or after it are dropped, notes
        ending after it are shortened; both with a :class:`UserWarning`.
    group : str
        The column that holds the group labels (default ``"Instrument"``); it must exist.
    name : str
        What to call the table in messages (e.g. the file name).

    Returns
    -------
    pandas.DataFrame
        Same notes with dtypes ``float, float, int, float, str``, sorted by ``Start`` then
        ``Pitch``, index ``0..n-1``.

    Raises
    ------
    ValueError
        Missing columns, unknown ``group`` column, or a bad value; the message names the
        row (by index label) and the column, e.g. ``notes row 7, column Pitch: expected an
        integer 0..127, got 130``.

    Used by: notebooks 01, 03, 04, 07 and every loader in :mod:`nmfedu.score` / :mod:`nmfedu.data`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"Start": [0.5, 0.0], "Duration": [0.5, 0.5], "Pitch": [71, 55],
    ...                    "Velocity": [80, 80], "Instrument": ["right", "left"]})
    >>> validate(df)["Pitch"].tolist()
    [55, 71]
    """
    if not isinstance(notes, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame with columns {COLUMNS}, "
                         f"got {type(notes).__name__}")
    missing = [c for c in COLUMNS if c not in notes.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {missing}; expected {COLUMNS}, "
                         f"got {list(notes.columns)}")
    if not isinstance(group, str) or group not in notes.columns:
        raise ValueError(f"group must name a column of {name}; expected one of "
                         f"{list(notes.columns)}, got {group!r}")
    if duration is not None:
        given = duration
        try:
            duration = float(duration)
        except (TypeError, ValueError):
            duration = float("nan")
        if not math.isfinite(duration) or duration <= 0:
            raise ValueError(f"duration must be the audio length in seconds (> 0), got {given!r}")

    df = notes.copy()
    starts, durs, pitches, vels, groups = [], [], [], [], []
    for label, row in zip(df.index, df.itertuples(index=False)):
        where = f"{name} row {label}"
        r = dict(zip(df.columns, row))  # by position: itertuples renames odd column names
        starts.append(_as_float(r["Start"], where, "Start", minimum=0.0))
        durs.append(_as_float(r["Duration"], where, "Duration", minimum=0.0, strict=True))
        pitches.append(_as_pitch(r["Pitch"], where))
        vels.append(_as_float(r["Velocity"], where, "Velocity", minimum=0.0))
        groups.append(_as_group(r[group], where, group))
    df["Start"] = np.asarray(starts, dtype=float)
    df["Duration"] = np.asarray(durs, dtype=float)
    df["Pitch"] = np.asarray(pitches, dtype=int)
    df["Velocity"] = np.asarray(vels, dtype=float)
    df[group] = pd.Series(groups, index=df.index, dtype=object)

    if duration is not None and len(df):
        after = df["Start"] >= duration
        longer = (~after) & (df["Start"] + df["Duration"] > duration)
        if after.any() or longer.any():
            warnings.warn(
                f"{name}: {int(after.sum())} note(s) start at or after the end of the audio "
                f"({duration:g} s) and were dropped, {int(longer.sum())} note(s) end after it "
                f"and were shortened", UserWarning, stacklevel=2)
            df = df.loc[~after].copy()
            end = np.minimum(df["Start"] + df["Duration"], duration)
            df["Duration"] = (end - df["Start"]).astype(float)

    ordered = COLUMNS + [c for c in df.columns if c not in COLUMNS]
    df = df[ordered].sort_values(["Start", "Pitch"], kind="mergesort").reset_index(drop=True)
    return df


# --------------------------------------------------------------------------- CSV
def _check_file(path, what):
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a file path (str or Path) to {what}, got {type(path).__name__}")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"path: no such {what} file: {p}")
    return p


def read_csv(path, duration: float | None = None) -> pd.DataFrame:
    """Read a note table in the FMP CSV format (``;``-separated, header line, seconds).

    Parameters
    ----------
    path : str or Path
        The ``.csv`` file, e.g. ``data/chopin_mazurka/score.csv``.
    duration : float, optional
        Length of the audio; passed to :func:`validate` (warn and clip notes past it).

    Returns
    -------
    pandas.DataFrame
        The validated note table.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Bad header or bad value, naming the file, the row and the column, e.g.
        ``score.csv row 7 (line 8), column Pitch: expected an integer 0..127, got 'abc'``
        (rows count notes from 1; line 1 is the header).

    Used by: notebooks 01, 03, 04; :func:`nmfedu.data.load`.
    """
    p = _check_file(path, "note-table CSV")
    with open(p, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=SEPARATOR)
        try:
            header = next(reader)
        except StopIteration:
            raise ValueError(f"{p.name}: the file is empty; expected the header line "
                             f"{SEPARATOR.join(COLUMNS)}") from None
        header = [h.strip() for h in header]
        lookup = {h.lower(): i for i, h in enumerate(header)}
        missing = [c for c in COLUMNS if c.lower() not in lookup]
        if missing:
            hint = " (is the separator ';'?)" if len(header) == 1 else ""
            raise ValueError(f"{p.name}: header lacks the column(s) {missing}{hint}; expected "
                             f"{SEPARATOR.join(COLUMNS)}, got {SEPARATOR.join(header)!r}")
        idx = {c: lookup[c.lower()] for c in COLUMNS}
        rows = []
        n = 0
        for line_no, fields in enumerate(reader, start=2):
            if not fields or all(not s.strip() for s in fields):
                continue
            n += 1
            where = f"{p.name} row {n} (line {line_no})"
            if len(fields) < len(header):
                raise ValueError(f"{where}: expected {len(header)} fields separated by "
                                 f"{SEPARATOR!r}, got {len(fields)}: {SEPARATOR.join(fields)!r}")
            rows.append((
                _as_float(fields[idx["Start"]], where, "Start", minimum=0.0),
                _as_float(fields[idx["Duration"]], where, "Duration", minimum=0.0, strict=True),
                _as_pitch(fields[idx["Pitch"]], where),
                _as_float(fields[idx["Velocity"]], where, "Velocity", minimum=0.0),
                _as_group(fields[idx["Instrument"]], where, "Instrument"),
            ))
    df = _sorted_table(rows)
    if duration is not None:
        df = validate(df, duration=duration, name=p.name)
    return df


def _format_number(v: float, decimals: int) -> str:
    v = round(float(v), decimals)
    if v == int(v):
        return str(int(v)) if abs(v) < 1e15 else repr(v)
    return repr(v)


def write_csv(notes, path, decimals: int = 6) -> Path:
    """Write a note table in the FMP CSV format.

    Times are rounded to ``decimals`` digits (default 6, i.e. 1 µs); integral numbers are
    written without a decimal point. The result reads back with :func:`read_csv`.

    Parameters
    ----------
    notes : pandas.DataFrame
        A note table (checked with :func:`validate`).
    path : str or Path
        Output file; its folder must exist.
    decimals : int
        Digits kept after the decimal point for ``Start``, ``Duration`` and ``Velocity``.

    Returns
    -------
    Path
        The written file.

    Used by: ``scripts/make_data.py`` (every bundled ``score.csv``), notebook 01 (exercise:
    write your own score).
    """
    if not isinstance(decimals, (int, np.integer)) or not 0 <= decimals <= 12:
        raise ValueError(f"decimals must be an integer 0..12, got {decimals!r}")
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a file path (str or Path), got {type(path).__name__}")
    p = Path(path)
    if not p.parent.is_dir():
        raise FileNotFoundError(f"path: the folder {p.parent} does not exist")
    df = validate(notes)
    lines = [SEPARATOR.join(COLUMNS)]
    for row in df[COLUMNS].itertuples(index=False):
        group = str(row[4])
        if SEPARATOR in group or "\n" in group or '"' in group:
            raise ValueError(f"notes column Instrument: labels must not contain ';', '\"' or "
                             f"newlines, got {group!r}")
        lines.append(SEPARATOR.join([
            _format_number(row[0], decimals), _format_number(row[1], decimals), str(int(row[2])),
            _format_number(row[3], decimals), group]))
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


# --------------------------------------------------------------------------- MIDI
def read_midi(path, duration: float | None = None) -> pd.DataFrame:
    """Read the notes of a MIDI file; each track's (instrument's) name is its group.

    Unnamed instruments are called ``"track <i>"`` (``i`` counting from 0). Times come from
    :mod:`pretty_midi` and honour tempo changes.

    Parameters
    ----------
    path : str or Path
        A ``.mid`` / ``.midi`` file, e.g. ``data/chopin_mazurka/score.mid``.
    duration : float, optional
        Length of the audio; passed to :func:`validate`.

    Returns
    -------
    pandas.DataFrame
        The validated note table.

    Used by: notebook 01 (reading a score file), :func:`read`.
    """
    p = _check_file(path, "MIDI")
    import pretty_midi

    try:
        pm = pretty_midi.PrettyMIDI(str(p))
    except Exception as exc:  # mido raises several types for corrupt files
        raise ValueError(f"path: {p.name} is not a readable MIDI file ({exc})") from None
    rows = []
    for i, inst in enumerate(pm.instruments):
        group = inst.name.strip() or f"track {i}"
        for note in inst.notes:
            if note.end <= note.start:
                continue
            rows.append((float(note.start), float(note.end - note.start), int(note.pitch),
                         float(note.velocity), group))
    df = _sorted_table(rows)
    if duration is not None:
        df = validate(df, duration=duration, name=p.name)
    return df


def read(path, duration: float | None = None) -> pd.DataFrame:
    """Read a note table from ``.csv`` (FMP format) or ``.mid``/``.midi``, by extension.

    Used by: notebooks 01, 03; :func:`nmfedu.data.load`.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a file path (str or Path), got {type(path).__name__}")
    ext = Path(path).suffix.lower()
    if ext == ".csv":
        return read_csv(path, duration=duration)
    if ext in (".mid", ".midi"):
        return read_midi(path, duration=duration)
    raise ValueError(f"path must end in .csv, .mid or .midi, got {str(path)!r}")


def write_midi(notes, path, tempo: float = 120.0, resolution: int = 480,
               program: int = 0, groups=None) -> Path:
    """Write a note table as a MIDI file with one track (instrument) per group.

    Times are converted to ticks at ``resolution`` ticks per quarter note and constant
    ``tempo``; choose them so that the note times fall on ticks (as ``scripts/make_data.py``
    does) and the file reads back exactly.

    Parameters
    ----------
    notes : pandas.DataFrame
        A note table; ``Velocity`` is rounded and clipped to 1..127.
    path : str or Path
        Output file.
    tempo : float
        Quarter notes per minute written to the file.
    resolution : int
        Ticks per quarter note.
    program : int
        General MIDI program of every track (0 = Acoustic Grand Piano).
    groups : list of str, optional
        Track order (default: sorted group names). Every group of ``notes`` must be listed.

    Returns
    -------
    Path

    Used by: ``scripts/make_data.py`` (``score.mid`` of every bundled excerpt).
    """
    import pretty_midi

    df = validate(notes)
    if not (isinstance(tempo, (int, float)) and math.isfinite(tempo) and tempo > 0):
        raise ValueError(f"tempo must be a number > 0 (quarter notes per minute), got {tempo!r}")
    if not isinstance(resolution, (int, np.integer)) or resolution < 1:
        raise ValueError(f"resolution must be a positive integer, got {resolution!r}")
    if not isinstance(program, (int, np.integer)) or not 0 <= program <= 127:
        raise ValueError(f"program must be an integer 0..127, got {program!r}")
    present = sorted(df["Instrument"].unique())
    if groups is None:
        groups = present
    unknown = [g for g in present if g not in groups]
    if unknown:
        raise ValueError(f"groups must list every group of notes; missing {unknown}")
    pm = pretty_midi.PrettyMIDI(resolution=int(resolution), initial_tempo=float(tempo))
    for g in groups:
        inst = pretty_midi.Instrument(program=int(program), name=str(g))
        for row in df[df["Instrument"] == g].itertuples(index=False):
            vel = int(np.clip(round(row.Velocity), 1, 127))
            inst.notes.append(pretty_midi.Note(velocity=vel, pitch=int(row.Pitch),
                                               start=float(row.Start),
                                               end=float(row.Start + row.Duration)))
        pm.instruments.append(inst)
    p = Path(path)
    pm.write(str(p))
    return p
