"""Amplitude normalisation with the CEDE options (Besomi et al., J Electromyogr Kinesiol 2020).

``"reference"``: divide by the mean amplitude of that muscle's reference (or MVC)
contractions (``ref/<CODE>`` events); ``"peak"`` / ``"mean"``: divide by the peak
or mean amplitude within the task, one value across all the task's trials (not
a separate maximum per trial); ``"none"``: raw amplitude. The choice is recorded
in the stream history by :meth:`~nkt_motion.Stream.normalise`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from nkt_motion.dsp._validate import FloatArray, as_signal, validate_choice
from nkt_motion.errors import SignalError, ValidationError

__all__ = ["NORMALISATIONS", "normalise"]

Normalisation = Literal["reference", "peak", "mean", "none"]
NORMALISATIONS: tuple[Normalisation, ...] = ("reference", "peak", "mean", "none")


def normalise(
    x: ArrayLike,
    *,
    method: Normalisation = "reference",
    reference: ArrayLike | None = None,
    axis: int = -1,
) -> tuple[FloatArray, FloatArray]:
    """Divide each channel's amplitude by one normalising value.

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Amplitude (envelope or moving RMS), non-negative, in unit u.
    method : {"reference", "peak", "mean", "none"}
        CEDE normalisation option.
    reference : array_like, shape (n_channels,) or (n_channels, n_refs), optional
        For ``"reference"``: the mean amplitude of each reference contraction,
        in unit u; the normalising value is their mean per channel.
    axis : int
        Time axis.

    Returns
    -------
    normalised : ndarray, same shape as x
        ``x / scale`` (dimensionless; unchanged for ``"none"``).
    scale : ndarray, shape (n_channels,)
        The normalising value per channel, in unit u (1 for ``"none"``).

    Raises
    ------
    ValidationError
        If ``reference`` is missing or its shape does not match.
    SignalError
        If a normalising value is zero or NaN (a flat channel or no reference).

    Examples
    --------
    >>> y, scale = normalise([[1.0, 2.0], [2.0, 6.0]], method="reference", reference=[2.0, 4.0])
    >>> y.tolist(), scale.tolist()
    ([[0.5, 1.0], [0.5, 1.5]], [2.0, 4.0])
    """
    validate_choice(method, name="method", allowed=NORMALISATIONS)
    sig = as_signal(x, axis=axis)
    lead = sig.shape[:-1]
    if method == "none":
        scale = np.ones(lead)
    elif method == "peak":
        scale = np.nanmax(sig, axis=-1) if sig.shape[-1] else np.full(lead, np.nan)
    elif method == "mean":
        scale = np.nanmean(sig, axis=-1) if sig.shape[-1] else np.full(lead, np.nan)
    else:
        if reference is None:
            raise ValidationError(
                'method="reference" needs the reference amplitudes (reference=...)',
                parameter="reference",
            )
        ref = np.asarray(reference, dtype=np.float64)
        if ref.shape[: len(lead)] != lead or ref.ndim > len(lead) + 1:
            raise ValidationError(
                f"reference must have shape {lead} or {(*lead, 'n_refs')}, got {ref.shape}",
                parameter="reference",
            )
        scale = ref.mean(axis=-1) if ref.ndim > len(lead) else ref
    bad = ~(np.isfinite(scale) & (scale > 0))
    if bad.any():
        rows = np.flatnonzero(bad.reshape(-1)).tolist()
        raise SignalError(
            f"cannot normalise by {method}: the normalising value of row(s) {rows} is zero "
            "or missing (flat channel, or no reference contraction)"
        )
    y = sig / scale[..., None]
    return np.moveaxis(y, -1, axis), scale
