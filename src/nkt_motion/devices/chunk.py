"""The decoded chunk: samples of one notification in physical units, with counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from nkt_motion.errors import ValidationError

__all__ = ["ChunkKind", "DecodedChunk"]

ChunkKind = Literal["emg", "imu", "ecg"]


def _readonly(array: NDArray[Any]) -> NDArray[Any]:
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True)
class DecodedChunk:
    """Samples decoded from one notification, in physical units.

    Parameters
    ----------
    device : str
        Name of the profile that decoded it (``nkt``, ``myo``, ...).
    characteristic : str
        UUID of the characteristic the payload came from.
    kind : {"emg", "imu", "ecg"}
        Signal group.
    data : ndarray of float64, shape (n_channels, n_samples)
        Samples in ``units``; stored read-only.
    channels : tuple of str
        Channel names (vocabulary labels where they apply).
    units : tuple of str
        Unit of each channel (``uV``, ``g``, ``deg/s``, ``1``, ``deg``, ``a.u.``).
    channel_kinds : tuple of str
        Kind of each channel: ``emg``, ``ecg``, ``acc``, ``gyr``, ``quat``, ``angle``.
    fs : float
        Nominal sampling rate in Hz.
    sequence : int or None
        Packet sequence number, when the device sends one.
    first_sample : int or None
        Device index of the first sample, when the device sends one.
    device_time_ns : int or None
        Device timestamp of the **last** sample in ns (Polar: since 2000-01-01 UTC).
    saturated : tuple of bool or None
        Per channel: the device flagged saturation within this packet.
    lead_off : tuple of bool or None
        Per channel: the device flagged an electrode off the skin.

    Examples
    --------
    >>> c = DecodedChunk("myo", "x", "emg", np.zeros((8, 2)), tuple(f"EMG ch{i}" for i in
    ...     range(1, 9)), ("a.u.",) * 8, ("emg",) * 8, 200.0)
    >>> c
    <DecodedChunk myo emg | 8 ch x 2 | 200.0 Hz>
    """

    device: str
    characteristic: str
    kind: ChunkKind
    data: NDArray[np.float64]
    channels: tuple[str, ...]
    units: tuple[str, ...]
    channel_kinds: tuple[str, ...]
    fs: float
    sequence: int | None = None
    first_sample: int | None = None
    device_time_ns: int | None = None
    saturated: tuple[bool, ...] | None = None
    lead_off: tuple[bool, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        data = np.array(self.data, dtype=np.float64, ndmin=2)
        n_ch = len(self.channels)
        if data.ndim != 2 or data.shape[0] != n_ch:
            raise ValidationError(
                f"data must have shape (n_channels={n_ch}, n_samples), got {data.shape}",
                parameter="data",
            )
        for name, per_channel in (
            ("units", self.units),
            ("channel_kinds", self.channel_kinds),
            ("saturated", self.saturated),
            ("lead_off", self.lead_off),
        ):
            if per_channel is not None and len(per_channel) != n_ch:
                raise ValidationError(
                    f"{name} must have one entry per channel ({n_ch}), got {len(per_channel)}",
                    parameter=name,
                )
        object.__setattr__(self, "data", _readonly(data))

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return int(self.data.shape[0])

    @property
    def n_samples(self) -> int:
        """Number of samples per channel."""
        return int(self.data.shape[1])

    def __repr__(self) -> str:
        return (
            f"<DecodedChunk {self.device} {self.kind} | {self.n_channels} ch x "
            f"{self.n_samples} | {self.fs} Hz>"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of the chunk (samples as nested lists, channel-major).

        Returns
        -------
        dict
            Keys ``device``, ``characteristic``, ``kind``, ``fs``, ``channels``,
            ``units``, ``channel_kinds``, ``sequence``, ``first_sample``,
            ``device_time_ns``, ``saturated``, ``lead_off``, ``samples``.

        Examples
        --------
        >>> c = DecodedChunk("nkt", "x", "ecg", [[1.5, 2.0]], ("ECG",), ("uV",), ("ecg",), 130.0)
        >>> c.to_dict()["samples"]
        [[1.5, 2.0]]
        """
        return {
            "device": self.device,
            "characteristic": self.characteristic,
            "kind": self.kind,
            "fs": self.fs,
            "channels": list(self.channels),
            "units": list(self.units),
            "channel_kinds": list(self.channel_kinds),
            "sequence": self.sequence,
            "first_sample": self.first_sample,
            "device_time_ns": self.device_time_ns,
            "saturated": None if self.saturated is None else list(self.saturated),
            "lead_off": None if self.lead_off is None else list(self.lead_off),
            "samples": self.data.tolist(),
        }
