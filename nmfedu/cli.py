"""Command line: ``python -m nmfedu separate MIX.wav SCORE.csv|SCORE.mid --out DIR``
and ``python -m nmfedu drums MIX.wav DRUMS.csv --out DIR``
and ``python -m nmfedu align MIX.wav SCORE.csv --out ALIGNED.csv|.mid``.

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

``separate --align auto`` (the default) first checks whether the score fits the recording
(:func:`nmfedu.synchronization.fit`) and synchronises it when it does not; ``report.json``
then has a ``synchronisation`` entry with the fit, whether it aligned, the lead-in, the tempo
ratio and the warp knots. A score of another piece is refused (one line, exit 2, no files).
``align`` writes the synchronised score with the same safety rules (no overwrite without
``--force``, a temporary file renamed into place).

WAV files are written as 32-bit float at the sample rate of the input, so the
separated files add up to the (mono) mixture.

Notebooks: 04 (runs ``python -m nmfedu separate`` on the default piece) and 09 (``drums``,
:func:`nmfedu.drums.separate_drums`, same safety rules); also the ``nmfedu`` console script
(pyproject.toml), the command-line counterpart of those notebooks.
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
    """Bad input detected by the command line itself (reported as one line).

    Notebooks: 04 (the command-line run).
    """


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
    """The argument parser of ``python -m nmfedu`` (sub-command ``separate``).

    Notebooks: 04 (the command-line run).
    """

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
    _add_align_option(sep)
    _add_drums_parser(sub)
    _add_align_parser(sub)
    return parser


def _add_drums_parser(sub):
    """Sub-command ``drums``: score-informed NMFD drum separation (notebook 09)."""
    from .drums import DRUM_DEFAULTS as D

    dr = sub.add_parser(
        "drums", help="split a drum recording into one WAV per instrument of its drum score",
        description="Score-informed NMFD drum separation (Dittmar & Müller 2016): writes "
                    "DIR/<Instrument>.wav for every instrument label of the drum score and "
                    "DIR/report.json.")
    dr.add_argument("mix", metavar="MIX", help="the drum recording (WAV, FLAC, OGG; stereo is mixed down)")
    dr.add_argument("score", metavar="SCORE.csv",
                    help="drum score synchronised with MIX: FMP CSV Start;Duration;Pitch;Velocity;"
                         "Instrument (Pitch a GM drum note: 36 kick, 38 snare, 42/46 hi-hat; "
                         "Instrument the stem name), or MIDI (.mid)")
    dr.add_argument("--out", required=True, metavar="DIR", help="output directory (created if missing)")
    dr.add_argument("--force", action="store_true", help="overwrite existing output files")
    dr.add_argument("--T", type=int, default=D["T"], dest="T",
                    help=f"template length in frames (default {D['T']}; 1 = plain NMF)")
    dr.add_argument("--n-iter", type=int, default=D["n_iter"],
                    help=f"iterations (default {D['n_iter']})")
    dr.add_argument("--beta", choices=["kl", "frobenius"], default=D["beta"])
    dr.add_argument("--alpha", type=float, default=D["alpha"],
                    help=f"mask exponent (> 0; 1 magnitude ratio, 2 Wiener; default {D['alpha']:g})")
    dr.add_argument("--reconstruction", choices=["mask", "resynthesis", "griffin_lim"],
                    default=D["reconstruction"],
                    help="alpha-Wiener masks (stems add up to MIX) or resynthesis of the model")


def _check_drum_options(args):
    """Step 0 of ``drums``: the numeric options, before any file is read."""
    if args.n_iter < 1:
        raise InputError(f"--n-iter must be a positive integer, got {args.n_iter}")
    if args.T < 1:
        raise InputError(f"--T must be an integer >= 1 (template length in frames), got {args.T}")
    if not args.alpha > 0:
        raise InputError(f"--alpha must be > 0 (1 = magnitude ratio, 2 = Wiener), got {args.alpha:g}")


def _read_score_file(args):
    """The note table of SCORE (CSV or MIDI) -> (notes, path); a bad file is one line."""
    from . import score as score_mod

    score_path = Path(args.score)
    if not score_path.exists():
        raise FileNotFoundError(f"SCORE: no such score file: {score_path}")
    try:
        return score_mod.read(score_path), score_path
    except (ValueError, OSError) as err:
        raise InputError(f"SCORE: {str(err).splitlines()[0]}") from None


def _load_drum_score(args):
    """Step 2 of ``drums``: the drum score and one output file name per instrument."""
    notes, score_path = _read_score_file(args)
    if len(notes) == 0:
        raise InputError(f"SCORE: {score_path} contains no hits")
    groups = list(dict.fromkeys(notes["Instrument"].astype(str)))
    return notes, score_path, _file_names(groups)


def _run_drums(x, sr, notes, args):
    """Step 4 of ``drums``: the NMFD separation, warnings one line each -> (details, seconds)."""
    from .drums import separate_drums

    t_sep = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        details = separate_drums(x, sr, notes, T=args.T, n_iter=args.n_iter, beta=args.beta,
                                 alpha=args.alpha, reconstruction=args.reconstruction,
                                 return_details=True)
    for w in caught:
        if issubclass(w.category, (UserWarning, RuntimeWarning)):
            _note("warning", str(w.message).splitlines()[0])
    return details, time.perf_counter() - t_sep


def _drums_report(args, sr, channels, notes, score_path, names, details, durations):
    """The content of the ``drums`` report.json."""
    import numpy as np

    from . import __version__

    loss = float(details.loss[-1])
    return {
        "command": "drums",
        "nmfedu_version": __version__,
        "mix": str(Path(args.mix).resolve()),
        "score": str(score_path.resolve()),
        "sample_rate": sr,
        "channels_in": channels,
        "n_hits": {g: int((notes["Instrument"].astype(str) == g).sum()) for g in names},
        "instruments": dict(names),
        "components": details.components,
        "parameters": details.params,
        "final_loss": loss if np.isfinite(loss) else None,
        "durations": durations,
    }


def _drums_command(args):
    """``python -m nmfedu drums``: the same named steps as ``separate`` (notebook 09)."""
    t0 = time.perf_counter()
    _check_drum_options(args)
    x, sr, channels = _read_audio(args.mix)
    duration = x.size / sr
    notes, score_path, names = _load_drum_score(args)
    out = _plan_output(args, names)
    details, t_sep = _run_drums(x, sr, notes, args)
    names = {g: n for g, n in names.items() if g in details.signals}
    return _write_outputs(out, names, details.signals, sr, (t0, t_sep, duration),
                          lambda d: _drums_report(args, sr, channels, notes, score_path, names,
                                                  details, d))


def _add_align_option(sep):
    """``separate --align auto|always|never`` (issue 14)."""
    sep.add_argument("--align", choices=["auto", "always", "never"], default="auto",
                     help="synchronise the score with MIX first: auto (default) when it does not "
                          "fit, always, or never (a score that does not fit is then refused)")


def _add_align_parser(sub):
    """The ``align`` sub-command: write the score synchronised with a recording."""
    al = sub.add_parser(
        "align", help="synchronise a score with a recording (writes the aligned CSV or MIDI)",
        description="Score-audio synchronisation (nmfedu.synchronization.align): multiscale DTW "
                    "on chroma and onset features, then every onset refined in its own pitch "
                    "bands. A score of another piece is refused.")
    al.add_argument("mix", metavar="MIX", help="the recording (WAV, FLAC, OGG; stereo is mixed down)")
    al.add_argument("score", metavar="SCORE", help="note table: FMP CSV or MIDI (.mid)")
    al.add_argument("--out", required=True, metavar="ALIGNED",
                    help="output score, .csv (FMP CSV) or .mid")
    al.add_argument("--by", default="Instrument", metavar="COLUMN",
                    help="score column with the group labels (default: Instrument)")
    al.add_argument("--force", action="store_true", help="overwrite an existing output file")


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


def _load_mix(args):
    """Step 1: the mono mixture at the requested sample rate -> (x, sr, channels_in)."""
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


def _load_score(args):
    """Step 2: the note table and one output file name per group -> (notes, score_path, names)."""
    notes, score_path = _read_score_file(args)
    if args.by not in notes.columns:
        raise InputError(f"--by {args.by!r} is not a column of the score; columns are "
                         f"{list(notes.columns)}")
    if len(notes) == 0:
        raise InputError(f"SCORE: {score_path} contains no notes")
    groups = list(dict.fromkeys(notes[args.by].astype(str)))
    return notes, score_path, _file_names(groups)


def _plan_output(args, names):
    """Step 3: the output directory, refusing to overwrite anything without --force."""
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out must be a directory, but {out} is a file")
    targets = [out / n for n in names.values()] + [out / "report.json"]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not args.force:
        raise InputError(f"refusing to overwrite {', '.join(existing)} (pass --force)")
    return out


def _run_separation(x, sr, notes, args, config):
    """Step 4: the separation, its warnings reported one line each -> (details, seconds)."""
    from .separation import separate

    t_sep = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        details = separate(x, sr, notes, by=args.by, config=config, return_details="summary",
                           align=args.align)
    for w in caught:
        if issubclass(w.category, (UserWarning, RuntimeWarning)):
            _note("warning", str(w.message).splitlines()[0])
    return details, time.perf_counter() - t_sep


def _wav_writer(signal, sr):
    """A writer ``write(tmp_path)`` of one stem as 32-bit float WAV (for :func:`_write_atomically`)."""
    import numpy as np
    import soundfile as sf

    return lambda tmp: sf.write(tmp, np.asarray(signal, dtype=np.float32), int(round(sr)),
                                format="WAV", subtype="FLOAT")


def _write_outputs(out, names, signals, sr, timing, make_report):
    """Last step of ``separate`` and ``drums``: one WAV per group and report.json, written
    atomically; ``timing = (t0, separation seconds, audio seconds)``, ``make_report(durations)``
    gives the report's content. Prints one line and returns the exit status 0."""
    t0, t_sep, duration = timing

    def write_report(tmp):
        durations = {"audio_s": round(duration, 6), "separation_s": round(t_sep, 3),
                     "total_s": round(time.perf_counter() - t0, 3)}
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(make_report(durations), fh, indent=2, default=_json_default)
            fh.write("\n")

    files = {name: _wav_writer(signals[g], sr) for g, name in names.items()}
    files["report.json"] = write_report
    _write_atomically(out, files)
    print(f"wrote {', '.join(str(out / n) for n in names.values())} and {out / 'report.json'} "
          f"({duration:.1f} s of audio in {time.perf_counter() - t0:.1f} s)")
    return 0


def _write_atomically(out, files):
    """Step 5: write every file to a temporary file in ``out``, then rename all into place.

    ``files`` maps a final file name to a function ``write(tmp_path)``. If any write fails,
    the temporary files are removed and no final file is touched.
    """
    out.mkdir(parents=True, exist_ok=True)
    temps = {}
    try:
        for name, write in files.items():
            tmp = _atomic_temp(out, name)
            temps[out / name] = tmp
            write(tmp)
        for final, tmp in temps.items():
            os.replace(tmp, final)
        temps = {}
    finally:
        for tmp in temps.values():
            try:
                os.remove(tmp)
            except OSError:
                pass


def _report(args, sr, channels, notes, score_path, names, details, durations):
    """The content of report.json."""
    import numpy as np

    from . import __version__

    loss = details.final_loss
    return {
        "command": "separate",
        "nmfedu_version": __version__,
        "mix": str(Path(args.mix).resolve()),
        "score": str(score_path.resolve()),
        "sample_rate": sr,
        "channels_in": channels,
        "n_notes": int(len(notes)),
        "groups": {g: n for g, n in names.items()},
        "parameters": {k: v for k, v in details.params.items() if k != "sync"},
        "synchronisation": details.params.get("sync"),
        "final_loss": loss if np.isfinite(loss) else None,
        "n_iter": details.n_iter,
        "durations": durations,
    }


def _separate_command(args):
    t0 = time.perf_counter()
    config = config_from_args(args)          # bad settings fail before any audio is read
    x, sr, channels = _load_mix(args)
    duration = x.size / sr
    notes, score_path, names = _load_score(args)
    out = _plan_output(args, names)
    details, t_sep = _run_separation(x, sr, notes, args, config)
    return _write_outputs(out, names, details.signals, sr, (t0, t_sep, duration),
                          lambda d: _report(args, sr, channels, notes, score_path, names,
                                            details, d))


def _align_command(args):
    from . import score as score_mod
    from . import synchronization as sync

    t0 = time.perf_counter()
    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".mid", ".midi"):
        raise InputError(f"--out must end in .csv, .mid or .midi, got {str(out)!r}")
    if out.exists() and not args.force:
        raise InputError(f"refusing to overwrite {out} (pass --force)")
    if out.exists() and out.is_dir():
        raise InputError(f"--out must be a file, but {out} is a directory")
    x, sr, _ = _read_audio(args.mix)
    score_path = Path(args.score)
    if not score_path.exists():
        raise FileNotFoundError(f"SCORE: no such score file: {score_path}")
    try:
        notes = score_mod.read(score_path)
    except (ValueError, OSError) as err:
        raise InputError(f"SCORE: {str(err).splitlines()[0]}") from None
    if len(notes) == 0:
        raise InputError(f"SCORE: {score_path} contains no notes; nothing to align")
    if args.by not in notes.columns:
        raise InputError(f"--by {args.by!r} is not a column of the score; columns are "
                         f"{list(notes.columns)}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = sync.align(x, sr, notes, by=args.by)
    for w in caught:
        if issubclass(w.category, UserWarning):
            _note("warning", str(w.message).splitlines()[0])
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _atomic_temp(out.parent, out.name)
    try:
        if out.suffix.lower() == ".csv":
            score_mod.write_csv(result.notes, tmp)
        else:
            score_mod.write_midi(result.notes, tmp, tempo=120.0, resolution=9600)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    a0, a1 = result.trim["audio"]
    s0, s1 = result.trim["score"]
    print(f"wrote {out} ({len(result.notes)} notes; fit {result.fit_before.fit:.2f} -> "
          f"{result.fit_after.fit:.2f}, sound starts at {a0:.2f} s, tempo x{(a1 - a0) / (s1 - s0):.2f} "
          f"of the notated; {time.perf_counter() - t0:.1f} s)")
    return 0


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def main(argv=None) -> int:
    """Entry point of ``python -m nmfedu`` and the ``nmfedu`` console script.

    Returns the exit status: 0 on success, 2 for bad input (one line on stderr).

    Notebooks: 04 (``python -m nmfedu separate``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.command == "drums":
            return _drums_command(args)
        if args.command == "align":
            return _align_command(args)
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
