"""Score-informed separation with a trained NAE (:func:`separate`).

Kept in a file of its own: the separation-pipeline issue (13) merges it into
:mod:`nmfedu.separation`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .initialization import init_score_informed
from .training import NAEResult, fit

__all__ = ["NAESeparationDetails", "separate"]


@dataclass
class NAESeparationDetails:
    """Everything :func:`separate` computed (``return_details=True``).

    Attributes: ``signals`` (dict group -> signal), ``X`` (complex STFT), ``V``,
    ``W_E0, W_D0, M_H, labels`` (the score-informed initialisation), ``model``
    (the :class:`NAEResult`), ``H_parts``, ``models``, ``masks`` (dicts group ->
    array), ``loss`` (per epoch), ``params``, ``runtime`` (s).
    """

    signals: dict
    X: np.ndarray
    V: np.ndarray
    W_E0: np.ndarray
    W_D0: np.ndarray
    M_H: np.ndarray
    labels: object
    model: NAEResult
    H_parts: dict
    models: dict
    masks: dict
    loss: np.ndarray
    params: dict = field(default_factory=dict)
    runtime: float = 0.0

    @property
    def final_loss(self):
        """Loss after the last epoch."""
        return float(self.loss[-1]) if len(self.loss) else float("nan")


def separate(x, sr, notes, by="Instrument", *, rule="multiplicative", n_epochs=100,
             lr="lipschitz", mask_exponent=None, seed=0, return_details=False,
             **constraint_kwargs):
    """Score-informed separation (e.g. left / right hand) with a trained NAE.

    The NMF path of :func:`nmfedu.separation.separate` with the factorisation
    replaced by an autoencoder: the decoder starts at the score's harmonic and
    onset templates (template constraints), the score's activation regions
    are the structured-dropout mask ``M_H`` (activation constraints), and after
    training the masked code ``H'`` and the decoder ``W_D`` take the places of
    NMF's ``H`` and ``W`` in :func:`nmfedu.separation.split_activations`,
    :func:`~nmfedu.separation.model_spectrograms`, :func:`~nmfedu.separation.masks`,
    :func:`~nmfedu.separation.apply_masks` and
    :func:`~nmfedu.separation.resynthesize`. Evaluate the signals with
    :func:`nmfedu.evaluation.bss_eval` as for NMF.

    Parameters
    ----------
    x : ndarray (L,)
        Mono mixture.
    sr : float
        Its sample rate (Hz).
    notes : DataFrame
        Note table synchronised with ``x``.
    by : str
        Group column of ``notes``.
    rule, n_epochs, lr
        Training (see :func:`fit`).
    mask_exponent : float, optional
        Exponent of the soft masks (default: the NMF path's).
    seed : int or None
    return_details : bool
        Return an :class:`NAESeparationDetails` instead of the dict of signals.
    **constraint_kwargs
        Passed to :func:`nmfedu.constraints.build_constraints`.

    Returns
    -------
    dict group -> ndarray (L,) or NAESeparationDetails

    Used in notebook 07.
    """
    from .. import separation as sep
    from ..spectrogram import stft

    t0 = time.perf_counter()
    x = sep.to_mono(x)
    if mask_exponent is None:
        mask_exponent = sep.SEPARATION_DEFAULTS["mask_exponent"]
    try:
        sr_f = float(sr)
    except (TypeError, ValueError):
        raise ValueError(f"sr must be a positive number, got {sr!r}") from None
    if not np.isfinite(sr_f) or sr_f <= 0:
        raise ValueError(f"sr must be a positive number, got {sr!r}")
    X = stft(x)
    V = np.abs(X)
    W_E0, W_D0, M, labels = init_score_informed(V, notes, by=by, sr=sr_f, **constraint_kwargs)
    model = fit(V, W_D0.shape[1], rule=rule, n_epochs=n_epochs, lr=lr, W_D0=W_D0, W_E0=W_E0,
                M_H=M, seed=seed)
    H_parts = sep.split_activations(model.H, labels, by="group")
    models = sep.model_spectrograms(model.W_D, H_parts)
    mask_dict = sep.masks(models, exponent=mask_exponent)
    signals = sep.resynthesize(sep.apply_masks(X, mask_dict), length=x.size)
    if not return_details:
        return signals
    params = dict(by=by, sr=sr_f, rule=rule, n_epochs=n_epochs, lr=lr,
                  mask_exponent=mask_exponent, seed=seed, **constraint_kwargs)
    return NAESeparationDetails(signals=signals, X=X, V=V, W_E0=W_E0, W_D0=W_D0, M_H=M,
                                labels=labels, model=model, H_parts=H_parts, models=models,
                                masks=mask_dict, loss=model.loss, params=params,
                                runtime=time.perf_counter() - t0)
