"""nmfedu.audio: compact, deterministic, level-preserving players."""
import base64
import io
import re

import numpy as np
import pytest
import soundfile as sf

from nmfedu import audio

SR = 22050


def tone(f=440.0, a=0.3, seconds=3.0):
    t = np.arange(int(seconds * SR)) / SR
    return a * np.sin(2 * np.pi * f * t) * np.exp(-t)


def uris(html):
    return re.findall(r'src="data:([^;]+);base64,([^"]+)"', html)


def decode(b64):
    y, sr = sf.read(io.BytesIO(base64.b64decode(b64)), dtype="float64")
    return y, sr


def wav_b64_len(x):
    buf = io.BytesIO()
    sf.write(buf, x, SR, format="WAV", subtype="PCM_16")
    return len(base64.b64encode(buf.getvalue()))


def test_player_is_compact_ogg():
    from nmfedu import data
    x = data.load(data.DEFAULT_PIECE).x
    html = audio.player(x, SR, title="mix").data
    (mime, b64), = uris(html)
    assert mime == "audio/ogg"
    assert len(html) < 0.25 * wav_b64_len(x)
    assert "<audio controls" in html and "mix" in html


def test_encoding_is_deterministic_and_decodes():
    x = tone()
    a, b = audio.encode(x, SR), audio.encode(x, SR)
    assert a == b
    y, sr = sf.read(io.BytesIO(a))
    assert sr == SR and abs(y.size - x.size) < 2048
    n = min(y.size, x.size)
    assert np.abs(y[:n] - x[:n]).max() < 0.05


def test_no_normalisation_by_default():
    quiet, loud = tone(a=0.05), tone(a=0.5)
    html = audio.players({"quiet": quiet, "loud": loud}, SR).data
    (_, q), (_, l) = uris(html)
    yq, _ = decode(q)
    yl, _ = decode(l)
    ratio = np.abs(yl).max() / np.abs(yq).max()
    assert 8 < ratio < 12                         # the 10:1 level ratio survives
    assert abs(np.abs(yq).max() - np.abs(quiet).max()) < 0.01   # same level as given
    assert "scaled" not in html and "normalised" not in html


def test_single_player_keeps_level():
    y, _ = decode(uris(audio.player(tone(a=0.02), SR).data)[0][1])
    assert np.abs(y).max() < 0.03


def test_normalize_on_request():
    html = audio.players({"quiet": tone(a=0.05), "loud": tone(a=0.5)}, SR, normalize=True).data
    peaks = [np.abs(decode(b)[0]).max() for _, b in uris(html)]
    assert all(0.85 < p < 1.05 for p in peaks)
    assert "normalised" in html


def test_clipping_scales_all_by_one_factor():
    a, b = tone(a=2.0), tone(a=0.5)
    html = audio.players({"a": a, "b": b}, SR).data
    assert "scaled by" in html
    (_, ua), (_, ub) = uris(html)
    pa, pb = np.abs(decode(ua)[0]).max(), np.abs(decode(ub)[0]).max()
    assert pa <= 1.05 and 3.5 < pa / pb < 4.5
    assert "scaled by" in audio.player(a, SR).data


@pytest.mark.parametrize("fmt, mime", [("flac", "audio/flac"), ("wav", "audio/wav"),
                                       ("mp3", "audio/mpeg")])
def test_other_formats(fmt, mime):
    (m, b64), = uris(audio.player(tone(), SR, format=fmt).data)
    assert m == mime
    y, sr = decode(b64)
    assert sr == SR


def test_title_is_escaped():
    html = audio.player(tone(), SR, title="<b>x</b>").data
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_bad_input():
    with pytest.raises(ValueError, match="x must be a mono"):
        audio.player(np.zeros((2, 100)), SR)
    with pytest.raises(ValueError, match="empty"):
        audio.player(np.zeros(0), SR)
    with pytest.raises(ValueError, match="NaN"):
        audio.player(np.array([0.0, np.nan]), SR)
    with pytest.raises(ValueError, match="sr must"):
        audio.player(tone(), 0)
    with pytest.raises(ValueError, match="format must"):
        audio.player(tone(), SR, format="aac")
    with pytest.raises(ValueError, match="signals must"):
        audio.players({}, SR)
    with pytest.raises(ValueError, match=r"signals\['b'\]"):
        audio.players({"a": tone(), "b": np.zeros((3, 3))}, SR)


def test_many_players_stay_small():
    from nmfedu import data
    p = data.load(data.DEFAULT_PIECE)
    sigs = {f"{k} {i}": v for i in range(4) for k, v in
            {"mix": p.x, "left": p.stems["left"], "right": p.stems["right"]}.items()}
    html = audio.players(sigs, p.sr).data
    assert len(html) < 1.5e6                      # a dozen 13-s players < 1.5 MB
