"""Compact audio players for the notebooks.

:func:`player` and :func:`players` embed sound as compressed data (Ogg Vorbis by default,
about a seventh of the size of base64 WAV), so a notebook with a dozen players stays small,
and they do **not** normalise: a separated component that is quiet sounds quiet, so levels
can be compared between players. Only if a signal would clip (a sample beyond ±1) are all
the signals of one call scaled down by the same factor, and the label says so. Pass
``normalize=True`` to scale each signal to full level, as :class:`IPython.display.Audio`
does.

The encoded bytes are deterministic (the random Ogg stream serial number that libsndfile
picks is replaced by a fixed one), so re-executing a notebook does not change its outputs.

Used by: notebooks 01–08 (listening to mixes, templates, separated hands and the
nonnegative autoencoder's reconstructions).

Examples
--------
>>> import numpy as np
>>> from nmfedu import audio
>>> x = 0.1 * np.sin(2 * np.pi * 440 * np.arange(22050) / 22050)
>>> html = audio.player(x, 22050, title="A4").data
>>> html.count("<audio")
1
"""
from __future__ import annotations

import base64
import html as _html
import io
import math
import struct

import numpy as np

__all__ = ["encode", "data_uri", "player", "players", "FORMATS"]

#: format name → (libsndfile format, subtype, MIME type)
FORMATS = {
    "ogg": ("OGG", "VORBIS", "audio/ogg"),
    "flac": ("FLAC", "PCM_16", "audio/flac"),
    "mp3": ("MP3", "MPEG_LAYER_III", "audio/mpeg"),
    "wav": ("WAV", "PCM_16", "audio/wav"),
}
_OGG_SERIAL = 0x6E6D6665  # "nmfe": fixed serial number → identical bytes on every run
_NORMALIZE_PEAK = 0.95


# --------------------------------------------------------------------------- Ogg serial fix
def _crc_table():
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def _ogg_crc(data: bytes) -> int:
    crc = 0
    table = _CRC
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[((crc >> 24) & 0xFF) ^ b]
    return crc


def _fix_ogg_serial(data: bytes, serial: int = _OGG_SERIAL) -> bytes:
    """Rewrite the stream serial number of every Ogg page and recompute the page CRCs."""
    out = bytearray(data)
    pos = 0
    while pos + 27 <= len(out):
        if out[pos:pos + 4] != b"OggS":
            raise RuntimeError("unexpected data in the Ogg stream written by libsndfile")
        n_seg = out[pos + 26]
        body = sum(out[pos + 27:pos + 27 + n_seg])
        end = pos + 27 + n_seg + body
        struct.pack_into("<I", out, pos + 14, serial)
        struct.pack_into("<I", out, pos + 22, 0)
        struct.pack_into("<I", out, pos + 22, _ogg_crc(bytes(out[pos:end])))
        pos = end
    return bytes(out)


# --------------------------------------------------------------------------- encoding
def _check(x, sr, name="x"):
    x = np.asarray(x)
    if x.dtype.kind not in "fiu" or x.ndim != 1:
        raise ValueError(f"{name} must be a mono signal (1-D array of numbers), got "
                         f"shape {x.shape} and dtype {x.dtype}")
    if x.size == 0:
        raise ValueError(f"{name} is empty; expected at least one sample")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer, float)) or not sr > 0 \
            or int(sr) != sr:
        raise ValueError(f"sr must be a positive integer sample rate in Hz, got {sr!r}")
    return x, int(sr)


def encode(x, sr: int, format: str = "ogg") -> bytes:
    """Encode a mono signal in [-1, 1] as an audio file in memory (deterministic bytes).

    Parameters
    ----------
    x : ndarray, shape (L,)
        Mono signal; values beyond ±1 are clipped.
    sr : int
        Sample rate in Hz.
    format : {"ogg", "flac", "mp3", "wav"}
        ``"ogg"`` (Vorbis, default) is the most compact; ``"mp3"`` plays in every browser;
        ``"flac"`` is lossless.

    Returns
    -------
    bytes

    Used by: :func:`player`, :func:`players`.
    """
    import soundfile as sf

    x, sr = _check(x, sr)
    if format not in FORMATS:
        raise ValueError(f"format must be one of {sorted(FORMATS)}, got {format!r}")
    fmt, subtype, _ = FORMATS[format]
    buf = io.BytesIO()
    sf.write(buf, np.clip(x, -1.0, 1.0), sr, format=fmt, subtype=subtype)
    data = buf.getvalue()
    if format == "ogg":
        data = _fix_ogg_serial(data)
    return data


def data_uri(x, sr: int, format: str = "ogg") -> str:
    """``data:`` URI of the encoded signal, for an ``<audio src=...>`` tag."""
    data = encode(x, sr, format)
    return f"data:{FORMATS[format][2]};base64," + base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------- players
def _levels(signals: dict, normalize: bool):
    """Scale factors per signal and a note for the label."""
    if normalize:
        gains = {}
        for k, x in signals.items():
            peak = np.abs(x).max()
            gains[k] = _NORMALIZE_PEAK / peak if peak > 0 else 1.0
        return gains, "normalised"
    peak = max(np.abs(x).max() for x in signals.values())
    if peak > 1.0:
        g = 1.0 / peak
        return {k: g for k in signals}, f"all scaled by {20 * math.log10(g):.1f} dB to avoid clipping"
    return {k: 1.0 for k in signals}, ""


def _audio_tag(x, sr, format):
    return (f'<audio controls preload="none" style="height:2.2em;width:16em" '
            f'src="{data_uri(x, sr, format)}"></audio>')


def _item(label, x, sr, format, note=""):
    label_html = _html.escape(str(label)) if label is not None else ""
    dur = f"{x.size / sr:.1f} s"
    sub = _html.escape(f"{dur}" + (f", {note}" if note else ""))
    return ('<div style="display:inline-block;margin:0 1em 0.4em 0;vertical-align:top">'
            f'<div style="font-size:90%"><b>{label_html}</b> '
            f'<span style="color:#666">({sub})</span></div>{_audio_tag(x, sr, format)}</div>')


def player(x, sr: int = 22050, normalize: bool = False, title: str | None = None,
           format: str = "ogg"):
    """One compact audio player.

    Parameters
    ----------
    x : ndarray, shape (L,)
        Mono signal, nominally in [-1, 1].
    sr : int
        Sample rate in Hz.
    normalize : bool
        False (default): play at the given level (scaled down only if a sample exceeds ±1,
        which the label then says). True: scale to full level.
    title : str, optional
        Label shown above the player.
    format : {"ogg", "flac", "mp3", "wav"}
        Embedded format (see :func:`encode`).

    Returns
    -------
    IPython.display.HTML
        Displays as an ``<audio controls>`` element with the sound inside the notebook.

    Used by: notebooks 01–08.
    """
    from IPython.display import HTML

    x, sr = _check(x, sr)
    gains, note = _levels({"x": x}, normalize)
    return HTML('<div class="nmfedu-audio">'
                + _item(title if title is not None else "", x * gains["x"], sr, format, note)
                + "</div>")


def players(signals: dict, sr: int = 22050, normalize: bool = False, format: str = "ogg",
            title: str | None = None):
    """Several players in one row, labelled, at comparable levels.

    Without ``normalize`` the signals keep their relative levels: if any sample of any of
    them exceeds ±1, ALL are scaled by the same factor (stated in a note).

    Parameters
    ----------
    signals : dict of str → ndarray
        Label → mono signal, e.g. ``{"mix": x, "left (estimate)": y_l, "left (true)": s_l}``.
    sr : int
        Sample rate of all signals.
    normalize : bool
        Scale each signal to full level (levels are then no longer comparable).
    format : {"ogg", "flac", "mp3", "wav"}
        Embedded format.
    title : str, optional
        Heading above the row.

    Returns
    -------
    IPython.display.HTML

    Used by: notebooks 04 (separated hands vs. ground truth), 06, 07, 08.
    """
    from IPython.display import HTML

    if not isinstance(signals, dict) or not signals:
        raise ValueError("signals must be a non-empty dict of label → mono signal, got "
                         f"{type(signals).__name__ if not isinstance(signals, dict) else 'an empty dict'}")
    checked = {}
    for k, x in signals.items():
        checked[k], sr_ok = _check(x, sr, name=f"signals[{k!r}]")
    gains, note = _levels(checked, normalize)
    parts = ['<div class="nmfedu-audio">']
    if title:
        parts.append(f'<div style="font-weight:bold;margin-bottom:0.2em">{_html.escape(title)}</div>')
    if note and not normalize:
        parts.append(f'<div style="color:#a40;font-size:90%">{_html.escape(note)}</div>')
    for k, x in checked.items():
        parts.append(_item(k, x * gains[k], sr_ok, format, "normalised" if normalize else ""))
    parts.append("</div>")
    return HTML("".join(parts))
