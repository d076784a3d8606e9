"""Direct tests of nmfedu.spectrogram: the STFT conventions every notebook relies on."""
import librosa
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nmfedu import spectrogram as sp


@settings(max_examples=25, deadline=None)
@given(length=st.integers(600, 9000), seed=st.integers(0, 2 ** 16))
def test_istft_inverts_stft(length, seed):
    x = np.random.default_rng(seed).standard_normal(length)
    X = sp.stft(x, n_fft=512, hop_length=128)
    assert X.shape == (512 // 2 + 1, 1 + length // 128)
    np.testing.assert_allclose(sp.istft(X, length=length, n_fft=512, hop_length=128), x,
                               atol=1e-9 * np.abs(x).max())


def test_stft_of_a_sinusoid_peaks_at_its_bin_and_frequencies_match():
    sr, n_fft, k = sp.SR, sp.N_FFT, 93
    f = sp.frequencies(sr, n_fft)
    assert f.shape == (n_fft // 2 + 1,) and f[0] == 0 and f[-1] == pytest.approx(sr / 2)
    np.testing.assert_allclose(np.diff(f), sr / n_fft)
    t = np.arange(sr) / sr
    V = sp.magnitude(np.sin(2 * np.pi * f[k] * t))
    assert int(np.argmax(V[:, V.shape[1] // 2])) == k
    np.testing.assert_allclose(f, librosa.fft_frequencies(sr=sr, n_fft=n_fft))


@settings(max_examples=50, deadline=None)
@given(t=st.lists(st.floats(0, 120), min_size=1, max_size=20),
       hop=st.sampled_from([128, 256, 512, 1024]), sr=st.sampled_from([16000, 22050, 44100]))
def test_frame_of_agrees_with_librosa_and_times(t, hop, sr):
    t = np.asarray(t)
    ours = sp.frame_of(t, sr, hop)
    # librosa floors; ours rounds to the nearest frame centre: they agree on t + half a hop
    theirs = librosa.time_to_frames(t + 0.5 * hop / sr, sr=sr, hop_length=hop)
    exact_half = np.isclose((t * sr / hop) % 1.0, 0.5)
    np.testing.assert_array_equal(ours[~exact_half], theirs[~exact_half])
    centres = sp.times(int(ours.max()) + 1, sr, hop)
    assert np.all(np.abs(centres[ours] - t) <= 0.5 * hop / sr + 1e-12)


def test_log_compress_and_bad_signals():
    V = np.array([[0.0, 1.0], [np.e - 1.0, 9.0]])
    np.testing.assert_allclose(sp.log_compress(V), np.log1p(V))
    np.testing.assert_allclose(sp.log_compress(V, log_factor=10.0), np.log1p(10.0 * V))
    with pytest.raises(ValueError, match="log_factor must be a finite number > 0"):
        sp.log_compress(V, 0.0)
    with pytest.raises(ValueError, match="x must be a mono signal"):
        sp.stft(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="x must contain only finite values, got NaN"):
        sp.stft(np.full(100, np.nan))
    with pytest.raises(ValueError, match="X must have shape"):
        sp.istft(np.zeros((10, 4)))
