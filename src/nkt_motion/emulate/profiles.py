"""Emulated peripherals for the device profiles of :mod:`nkt_motion.devices`.

Each serves its profile's real GATT table (the characteristics and UUIDs the
profile declares), honours the commands the profile sends, and streams a signal
source in the device's own packet format at its own rate. A signal source maps
device-sample indices to samples in physical units, so a simulated session's
arrays can be replayed through the radio (see :func:`array_source`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.devices import CharacteristicSpec as ProfileCharacteristic
from nkt_motion.devices import DeviceProfile, sig_uuid
from nkt_motion.emulate.gatt_table import CharacteristicSpec, GattRefusal, Property, ServiceSpec
from nkt_motion.emulate.sensor import EmulatedSensor
from nkt_motion.emulate.streaming import DeviceClock, Faults
from nkt_motion.errors import ValidationError

__all__ = ["ProfileSensor", "SignalSource", "array_source", "constant_source", "is_running"]

logger = logging.getLogger(__name__)

#: ``indices (n,) int64 -> samples (n_channels, n) float64`` in physical units.
SignalSource = Callable[[NDArray[np.int64]], NDArray[np.float64]]

_BATTERY = sig_uuid(0x2A19)
_SIG_SERVICE = {_BATTERY: sig_uuid(0x180F)}
_INFO_SERVICE = sig_uuid(0x180A)


def array_source(data: ArrayLike) -> SignalSource:
    """Replay an array ``(n_channels, n_samples)``, wrapping around at its end.

    Parameters
    ----------
    data : array_like, shape (n_channels, n_samples)
        Samples at the device's rate, in the units the device reports.

    Returns
    -------
    SignalSource
        ``indices -> data[:, indices % n_samples]``.

    Examples
    --------
    >>> src = array_source([[0.0, 1.0, 2.0]])
    >>> src(np.array([2, 3, 4])).tolist()
    [[2.0, 0.0, 1.0]]
    """
    arr = np.array(data, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValidationError(
            f"data must have shape (n_channels, n_samples >= 1), got {arr.shape}",
            parameter="data",
        )

    def source(indices: NDArray[np.int64]) -> NDArray[np.float64]:
        return arr[:, np.asarray(indices) % arr.shape[1]]

    return source


def constant_source(values: Sequence[float]) -> SignalSource:
    """Return the same sample for every index.

    Parameters
    ----------
    values : sequence of float
        One value per channel.

    Returns
    -------
    SignalSource
        ``indices -> values`` repeated.

    Examples
    --------
    >>> constant_source([1.0, 2.0])(np.arange(3)).tolist()
    [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    """
    column = np.asarray(values, dtype=np.float64)[:, None]
    return lambda idx: np.repeat(column, len(idx), axis=1)


class ProfileSensor(EmulatedSensor):
    """An emulated sensor whose GATT table comes from a :class:`DeviceProfile`.

    Control characteristics call :meth:`on_command` (to be overridden); info
    characteristics answer with :attr:`info`; the battery reads 100 %.

    Parameters
    ----------
    profile : DeviceProfile
        The profile served.
    name, address : str
        Advertised name and address.
    clock, faults : DeviceClock, Faults or None
        As for :class:`EmulatedSensor`.

    Examples
    --------
    >>> from nkt_motion.devices import PROFILES
    >>> s = ProfileSensor(PROFILES["witmotion"], name="WT901", address="F0:00:00:00:00:07")
    >>> s.profile.name
    'witmotion'
    """

    def __init__(
        self,
        profile: DeviceProfile,
        *,
        name: str,
        address: str,
        clock: DeviceClock | None = None,
        faults: Faults | None = None,
    ) -> None:
        super().__init__(name=name, address=address, clock=clock, faults=faults)
        self.profile = profile
        self.info: dict[str, bytes] = {}

    def gatt_services(self) -> tuple[ServiceSpec, ...]:
        """Build the profile's table: its own service, then battery and device info.

        Returns
        -------
        tuple of ServiceSpec
            Services in handle order.

        Examples
        --------
        >>> from nkt_motion.devices import PROFILES
        >>> s = ProfileSensor(PROFILES["nkt"], name="nkt-1", address="F0:00:00:00:00:07")
        >>> [svc.uuid[:8] for svc in s.gatt_services()]
        ['6e6b0001', '0000180f', '0000180a']
        """
        groups: dict[str, list[CharacteristicSpec]] = {self.profile.service_uuid: []}
        for char in self.profile.characteristics:
            service = _SIG_SERVICE.get(char.uuid)
            if service is None and char.role == "info" and char.uuid.endswith("805f9b34fb"):
                service = _INFO_SERVICE
            groups.setdefault(service or self.profile.service_uuid, []).append(self._spec(char))
        return tuple(
            ServiceSpec(uuid, tuple(chars), advertise=uuid == self.profile.service_uuid)
            for uuid, chars in groups.items()
        )

    def _spec(self, char: ProfileCharacteristic) -> CharacteristicSpec:
        props: tuple[Property, ...] = tuple(char.properties)  # type: ignore[arg-type]
        if char.role == "control":
            return CharacteristicSpec(char.uuid, props, on_write=self.on_command)
        if char.role == "battery":
            return CharacteristicSpec(char.uuid, props, value=bytes([100]))
        if char.role == "info":
            return CharacteristicSpec(
                char.uuid, props, on_read=lambda: self.info.get(char.uuid, self.name.encode())
            )
        return CharacteristicSpec(char.uuid, props)

    def on_command(self, value: bytes) -> None:
        """Handle a write to a control characteristic (subclasses implement).

        Parameters
        ----------
        value : bytes
            The written value.

        Raises
        ------
        GattRefusal
            Always, in the base class: it knows no command.

        Examples
        --------
        Subclasses parse, validate and apply the command.
        """
        raise GattRefusal(f"{self.profile.name}: no command handler")


def is_running(sensor: EmulatedSensor, uuid: str) -> bool:
    """Whether ``sensor`` has a running stream on characteristic ``uuid``.

    Parameters
    ----------
    sensor : EmulatedSensor
        The sensor.
    uuid : str
        Characteristic UUID (lower case).

    Returns
    -------
    bool
        True while the stream sends.

    Examples
    --------
    >>> is_running(EmulatedSensor(name="X", address="F0:00:00:00:00:03"), "2a19")
    False
    """
    stream = sensor.streams.get(uuid)
    return stream is not None and stream.running
