"""Command line: ``python -m nmfedu separate MIX.wav SCORE.csv|SCORE.mid --out DIR``.

Score-informed separation (:func:`nmfedu.separation.separate`) of a recording
into one WAV file per group label of the score (e.g. ``left.wav`` and
``right.wav``), plus ``report.json`` with the parameters, the final NMF loss
and the durations (audio length, run time).

Behaviour worth knowing:

* existing output files are never overwritten without ``--force``; this is
  checked *before* any computation;
* every file is first written to a temporary file in ``DIR`` and renamed into
  place only when all of them are complete, so an interrupted run leaves no
  half-written output;
* bad input (missing or unreadable audio, malformed score rows, an unknown
  ``--by`` column, a sample rate other than ``--sr``) ends with one line
  ``nmfedu: error: …`` on stderr and exit status 2, without a traceback;
  warnings (stereo mixed down, notes past the end clipped) are one line each
  ``nmfedu: warning: …``.

WAV files are written as 32-bit float at the sample rate of the input, so the
separated files add up to the (mono) mixture.

Used by: ``python -m nmfedu`` and the ``nmfedu`` console script (pyproject.toml); it is the
command-line counterpart of notebook 04 (left/right-hand separation).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

__all__ = ["main", "build_parser", "config_from_args", "InputError"]

EXIT_BAD_INPUT = 2


class InputError(Exception):
    """Bad input detected by the command line itself (reported as one line)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + message
        self.exit(EXIT_BAD_INPUT, f"nmfedu: error: {message} (see '{self.prog} --help')\n")


def _off_or_float(text):
    """``off``/``none`` → None, otherwise a float (the optional refinements)."""
    if text.strip().lower() in ("off", "none"):
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds or 'off', got {text!r}") from None


def _flag(name):
    return "--" + name.replace("_", "-")


def _add_config_flags(parser):
    """One flag per field of :class:`nmfedu.separation.SeparationConfig`, defaults from
    :data:`nmfedu.separation.DEFAULTS`, grouped by pipeline step: every default is reachable."""
    import dataclasses

    from .separation import DEFAULTS

    groups = {}
    for f in dataclasses.fields(DEFAULTS):
        meta = f.metadata
        step = meta.get("step", "settings")
        grp = groups.get(step) or groups.setdefault(
            step, parser.add_argument_group(f"{step} (nmfedu.separation.SeparationConfig)"))
        default = getattr(DEFAULTS, f.name)
        choices = meta.get("choices")
        shown = "off" if default is None else default
        text = f"{meta.get('help', f.name)} (default: {shown})"
        if isinstance(default, bool):
            grp.add_argument(_flag(f.name), dest=f.name, action=argparse.BooleanOptionalAction,
                             default=default, help=text)
        elif choices is not None:
            names = ["off" if c is None else str(c) for c in choices]
            grp.add_argument(_flag(f.name), dest=f.name, choices=names, default=str(shown),
                             help=text)
        elif f.name in ("attack_guard", "decay_after"):
            grp.add_argument(_flag(f.name), dest=f.name, type=_off_or_float, default=default,
                             metavar="SECONDS|off", help=text)
        else:
            grp.add_argument(_flag(f.name), dest=f.name, type=type(default), default=default,
                             help=text)


def config_from_args(args):
    """The :class:`~nmfedu.separation.SeparationConfig` the parsed flags describe.

    A bad value is an :class:`InputError` that names the flag.
    """
    import dataclasses

    from .separation import DEFAULTS

    values = {}
    for f in dataclasses.fields(DEFAULTS):
        v = getattr(args, f.name)
        if f.metadata.get("choices") is not None and v == "off":
            v = None
        values[f.name] = v
    try:
        return DEFAULTS.replace(**values)
    except ValueError as err:
        msg = str(err)
        for name in values:
            if msg.startswith(name + " "):
                msg = _flag(name) + msg[len(name):]
                break
        raise InputError(msg) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m nmfedu`` (sub-command ``separate``)."""
    parser = _Parser(prog="python -m nmfedu",
                     description="nmfedu command line: score-informed NMF source separation.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sep = sub.add_parser(
        "separate", help="split a recording into one WAV per score group (e.g. left/right hand)",
        description="Score-informed NMF separation (Ewert & Müller 2012): writes DIR/<group>.wav "
                    "for every group label of the score and DIR/report.json. Every setting of "
                    "nmfedu.separate has a flag below; the defaults are nmfedu's.")
    sep.add_argument("mix", metavar="MIX", help="the recording (WAV, FLAC, OGG; stereo is mixed down)")
    sep.add_argument("score", metavar="SCORE",
                     help="note table synchronised with MIX: FMP CSV "
                          "(Start;Duration;Pitch;Velocity;Instrument, seconds) "
                          "or MIDI (.mid)")
    sep.add_argument("--out", required=True, metavar="DIR", help="output directory (created if missing)")
    sep.add_argument("--by", default="Instrument", metavar="COLUMN",
                     help="score column with the group labels (default: Instrument)")
    sep.add_argument("--force", action="store_true", help="overwrite existing output files")
    sep.add_argument("--sr", type=float, default=None, metavar="HZ",
                     help="expected sample rate of MIX; a different rate is an error unless --resample")
    sep.add_argument("--resample", action="store_true", help="resample MIX to --sr instead of failing")
    _add_config_flags(sep)
    return parser


def _note(kind, message):
    print(f"nmfedu: {kind}: {message}", file=sys.stderr)


def _read_audio(path):
    import numpy as np
    import soundfile as sf

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"MIX: no such audio file: {p}")
    if not p.is_file():
        raise InputError(f"MIX: not a file: {p}")
    try:
        data, sr = sf.read(str(p), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"MIX: cannot read {p} as audio ({reason})") from None
    if data.shape[0] == 0:
        raise InputError(f"MIX: {p} contains no samples")
    if not np.all(np.isfinite(data)):
        raise InputError(f"MIX: {p} contains NaN or inf samples")
    channels = data.shape[1]
    if channels > 1:
        _note("note", f"MIX has {channels} channels; mixed down to mono (average of the channels)")
    return data.mean(axis=1), float(sr), channels


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _file_names(groups):
    names = {}
    for g in groups:
        stem = _SAFE.sub("_", str(g)).strip("._") or "group"
        names[g] = f"{stem}.wav"
    clash = len(set(names.values())) != len(names)
    if clash or "report.json" in names.values():
        raise InputError(f"group labels {list(groups)} give clashing file names "
                         f"{list(names.values())}; rename the groups in the score")
    return names


def _atomic_temp(directory, final_name):
    """A new empty file next to the final one (same file system, so os.replace is atomic),
    with the permissions a normal open() would give."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{final_name}.", suffix=".part")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return tmp


def _read_mix(args):
    """MIX as mono float64 and its rate (resampled to --sr if asked)."""
    x, sr, channels = _read_audio(args.mix)
    if args.sr is not None:
        if args.sr <= 0:
            raise InputError(f"--sr must be a positive sample rate in Hz, got {args.sr:g}")
        if args.sr != sr:
            if not args.resample:
                raise InputError(f"sample-rate mismatch: MIX is {sr:g} Hz but --sr is {args.sr:g} Hz "
                                 f"(pass --resample to convert)")
            import librosa

            _note("note", f"MIX resampled from {sr:g} Hz to {args.sr:g} Hz")
            x = librosa.resample(x, orig_sr=sr, target_sr=args.sr)
            sr = float(args.sr)
    return x, sr, channels


def _read_score(args):
    from . import score as score_mod

    score_path = Path(args.score)
    if not score_path.exists():
        raise FileNotFoundError(f"SCORE: no such score file: {score_path}")
    try:
        notes = score_mod.read(score_path)
    except (ValueError, OSError) as err:
        raise InputError(f"SCORE: {str(err).splitlines()[0]}") from None
    if args.by not in notes.columns:
        raise InputError(f"--by {args.by!r} is not a column of the score; columns are "
                         f"{list(notes.columns)}")
    if len(notes) == 0:
        raise InputError(f"SCORE: {score_path} contains no notes")
    return notes, score_path


def _output_plan(args, groups):
    """File names per group; refuses to overwrite before anything is computed."""
    names = _file_names(groups)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out must be a directory, but {out} is a file")
    targets = [out / n for n in names.values()] + [out / "report.json"]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not args.force:
        raise InputError(f"refusing to overwrite {', '.join(existing)} (pass --force)")
    return out, names


def _write_atomically(out, files):
    """``files``: final name -> writer(path). All are written to temp files first, then
    renamed into place; on any failure none is left behind."""
    out.mkdir(parents=True, exist_ok=True)
    temps = {}
    try:
        for name, writer in files.items():
            tmp = _atomic_temp(out, name)
            temps[out / name] = tmp
            writer(tmp)
        for final, tmp in temps.items():
            os.replace(tmp, final)
        temps = {}
    finally:
        for tmp in temps.values():
            try:
                os.remove(tmp)
            except OSError:
                pass


def _separate_command(args):
    import numpy as np
    import soundfile as sf

    from . import __version__
    from .separation import separate

    t0 = time.perf_counter()
    config = config_from_args(args)
    x, sr, channels = _read_mix(args)
    notes, score_path = _read_score(args)
    out, names = _output_plan(args, list(dict.fromkeys(notes[args.by].astype(str))))

    t_sep = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        details = separate(x, sr, notes, by=args.by, config=config,
                           return_details="summary")
    for w in caught:
        if issubclass(w.category, (UserWarning, RuntimeWarning)):
            _note("warning", str(w.message).splitlines()[0])
    t_sep = time.perf_counter() - t_sep

    duration = x.size / sr
    loss = details.final_loss
    report = {
        "command": "separate", "nmfedu_version": __version__,
        "mix": str(Path(args.mix).resolve()), "score": str(score_path.resolve()),
        "sample_rate": sr, "channels_in": channels, "n_notes": int(len(notes)),
        "groups": dict(names), "parameters": dict(details.params),
        "final_loss": loss if np.isfinite(loss) else None, "n_iter": details.n_iter,
        "durations": {"audio_s": round(duration, 6), "separation_s": round(t_sep, 3),
                      "total_s": round(time.perf_counter() - t0, 3)},
    }

    def wav(signal):
        return lambda path: sf.write(path, np.asarray(signal, dtype=np.float32), int(round(sr)),
                                     format="WAV", subtype="FLOAT")

    def write_report(path):
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, default=_json_default)
            fh.write("\n")

    files = {name: wav(details.signals[g]) for g, name in names.items()}
    files["report.json"] = write_report
    _write_atomically(out, files)
    print(f"wrote {', '.join(str(out / n) for n in names.values())} and {out / 'report.json'} "
          f"({duration:.1f} s of audio in {time.perf_counter() - t0:.1f} s)")
    return 0


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def main(argv=None) -> int:
    """Entry point of ``python -m nmfedu`` and the ``nmfedu`` console script.

    Returns the exit status: 0 on success, 2 for bad input (one line on stderr).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return _separate_command(args)
    except (InputError, ValueError, FileNotFoundError, MemoryError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        _note("error", message)
        return EXIT_BAD_INPUT
    except OSError as err:  # e.g. permission denied on --out
        _note("error", f"{err.strerror or err}: {err.filename or ''}".rstrip(": "))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _note("error", "interrupted; no output file was written")
        return 130
