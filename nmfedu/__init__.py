"""nmfedu — nonnegative matrix factorization and nonnegative autoencoders for music audio.

The package behind the nmfedu notebook series. The mathematical modules
(``factorization``, ``constraints``, ``separation``, ``evaluation``, ``nae``,
``score``, ``spectrogram``, ``data``) import no plotting or widget library, so
they run headless in tests, benchmarks and the command line; ``plot``,
``widgets`` and ``audio`` build on them for the notebooks.

Names are resolved lazily: ``import nmfedu`` is cheap, and ``nmfedu.nmf``
imports only what it needs.

Coming from scikit-learn or librosa
-----------------------------------
nmfedu keeps the notation of the lecture, which differs in a few places:

* the rank is ``R`` (scikit-learn: ``n_components``; librosa.decompose: ``n_components``);
* ``V`` is **features × frames** (K frequency bins × N frames, as librosa's spectrograms),
  so ``V ≈ W H`` with templates ``W`` (K × R) and activations ``H`` (R × N); scikit-learn's
  ``NMF.fit_transform(X)`` takes samples × features, i.e. ``V.T``, and returns ``H.T``;
* the Frobenius loss is ``‖V − WH‖²`` **without** the factor ½ (scikit-learn reports
  half of it), and gradients carry the factor 2;
* there is no regularisation: ``accel`` of ``nmf(method="accelerated")`` is Gillis &
  Glineur's α, not scikit-learn's ``alpha_W``/``alpha_H``; ``lr`` (γ in the notebooks) is
  always a learning rate, and ``log_factor`` the constant of ``log(1 + log_factor · V)``;
* results of :func:`nmf` and :func:`nmfedu.nae.fit` name the start ``initial_loss`` and the
  wall time ``runtime``; ``init_random(V, R, ...)`` takes the data first in both.

Notebooks: 00–04, 06–08 (``import nmfedu``).

Examples
--------
>>> import numpy as np, nmfedu
>>> V = np.random.default_rng(0).random((20, 30))
>>> result = nmfedu.nmf(V, R=3, n_iter=50, seed=0)
>>> result.W.shape, result.H.shape
((20, 3), (3, 30))
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> submodule that defines it
_EXPORTS = {
    "nmf": "factorization",
    "NMFResult": "factorization",
    "gradient_H": "factorization",
    "gradient_W": "factorization",
    "nmf_gd": "factorization",
    "loss": "factorization",
    "init_random": "factorization",
    "mu_learning_rate_H": "factorization",
    "mu_learning_rate_W": "factorization",
    "build_constraints": "constraints",
    "bss_eval": "evaluation",
    "separate": "separation",
    "separate_drums": "drums",
}
_SUBMODULES = {
    "factorization", "constraints", "separation", "evaluation", "nae", "score",
    "spectrogram", "data", "plot", "widgets", "audio", "exercises", "demos", "cli",
    "drums", "mosaic", "nmfd", "reconstruction", "synchronization",
}

__all__ = sorted(_EXPORTS) + sorted(_SUBMODULES)


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'nmfedu' has no attribute {name!r}")


def __dir__():
    return __all__
