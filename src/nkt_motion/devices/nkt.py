"""Profile and decoder of the open nkt sensor (XIAO nRF52840 Sense + MyoWare 2.0).

The protocol is specified in ``firmware_notes/nkt-sensor-profile.md``; constants,
commands and the packet encoder live in :mod:`nkt_motion.devices.nkt_protocol`.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from nkt_motion.devices import nkt_commands as cmd
from nkt_motion.devices import nkt_protocol as proto
from nkt_motion.devices._base import (
    CharacteristicSpec,
    DeviceProfile,
    GattWrite,
    check_site,
    imu_labels,
    sig_uuid,
)
from nkt_motion.devices.chunk import DecodedChunk
from nkt_motion.errors import ValidationError
from nkt_motion.vocab import parse_channel_label

__all__ = ["NktProfile"]

DEFAULT_EMG_LABELS: Final = ("EMG ch1", "EMG ch2", "EMG ch3", "EMG ch4")


class NktProfile(DeviceProfile):
    """The open nkt sensor: 4 EMG channels (1 or 2 kHz) and a 6-axis IMU (100/200 Hz).

    Parameters
    ----------
    site : str
        IMU mounting site used in the IMU channel labels (``ACC X pelvis``).
    emg_labels : tuple of 4 str or None
        Labels of EMG channels 1..4, e.g. ``("EMG GMED L", "EMG ADL L", ...)``;
        each must follow the vocabulary. Default: placeholders ``EMG ch1``...
    emg_rate : {1000, 2000}
        EMG rate requested by :meth:`start_commands`.
    emg_channels : tuple of int
        EMG channels (1..4) requested by :meth:`start_commands`.
    imu_rate : {100, 200}
        IMU rate requested by :meth:`start_commands`.
    acc_range_g, gyro_range_dps : float
        IMU full scales requested by :meth:`start_commands`.

    Examples
    --------
    >>> from nkt_motion.devices.nkt_protocol import EMG_UUID, encode_emg_packet
    >>> p = NktProfile()
    >>> chunk = p.decode(EMG_UUID, encode_emg_packet([[5.0, 6.0]], sequence=1,
    ...     first_sample=40, rate=1000, channels=(2,)))
    >>> chunk.channels, chunk.data.tolist(), chunk.first_sample, chunk.fs
    (('EMG ch2',), [[5.0, 6.0]], 40, 1000.0)
    """

    name = "nkt"
    service_uuid = proto.SERVICE_UUID
    name_pattern = r"nkt[-_ ]"

    def __init__(
        self,
        *,
        site: str = "pelvis",
        emg_labels: tuple[str, ...] | None = None,
        emg_rate: float = 2000.0,
        emg_channels: tuple[int, ...] = (1, 2, 3, 4),
        imu_rate: float = 100.0,
        acc_range_g: float = 8.0,
        gyro_range_dps: float = 2000.0,
    ) -> None:
        self.site = check_site(site)
        labels = DEFAULT_EMG_LABELS if emg_labels is None else tuple(emg_labels)
        if len(labels) != proto.MAX_EMG_CHANNELS or len(set(labels)) != len(labels):
            raise ValidationError(
                f"emg_labels must be 4 distinct labels, got {labels!r}", parameter="emg_labels"
            )
        if emg_labels is not None:
            for label in labels:
                parse_channel_label(label)
        self.emg_labels = labels
        self._configure = (
            cmd.configure_emg_command(rate=emg_rate, channels=emg_channels),
            cmd.configure_imu_command(
                rate=imu_rate, acc_range_g=acc_range_g, gyro_range_dps=gyro_range_dps
            ),
        )
        self.imu_labels = imu_labels("acc", site) + imu_labels("gyr", site)
        self.characteristics = (
            CharacteristicSpec(
                proto.CONTROL_UUID,
                "control",
                ("write", "indicate"),
                "control point: start/stop/configure; responses F0 <op> <status>",
            ),
            CharacteristicSpec(
                proto.EMG_UUID,
                "data",
                ("notify",),
                "EMG packets, 1 uV/LSB",
                channels=labels,
                units=("uV",) * 4,
            ),
            CharacteristicSpec(
                proto.IMU_UUID,
                "data",
                ("notify",),
                "IMU packets, acc g, gyro deg/s",
                channels=self.imu_labels,
                units=("g",) * 3 + ("deg/s",) * 3,
            ),
            CharacteristicSpec(sig_uuid(0x2A19), "battery", ("read", "notify"), "battery %"),
            CharacteristicSpec(sig_uuid(0x2A29), "info", ("read",), "manufacturer name"),
            CharacteristicSpec(sig_uuid(0x2A24), "info", ("read",), "model number"),
            CharacteristicSpec(sig_uuid(0x2A26), "info", ("read",), "firmware revision"),
        )

    def start_commands(self) -> tuple[GattWrite, ...]:
        """Configure EMG and IMU, then start both streams.

        Returns
        -------
        tuple of GattWrite
            Three control-point writes.

        Examples
        --------
        >>> [w.data.hex() for w in NktProfile().start_commands()]
        ['03010f', '04000204', '0103']
        """
        commands = (*self._configure, cmd.start_command())
        return tuple(GattWrite(proto.CONTROL_UUID, c) for c in commands)

    def stop_commands(self) -> tuple[GattWrite, ...]:
        """Stop every stream.

        Returns
        -------
        tuple of GattWrite
            One control-point write.

        Examples
        --------
        >>> NktProfile().stop_commands()[0].data.hex()
        '02'
        """
        return (GattWrite(proto.CONTROL_UUID, cmd.stop_command()),)

    def decode(self, char_uuid: str, payload: bytes) -> DecodedChunk:
        """Decode an EMG or IMU packet (see the class example)."""
        payload = bytes(payload)
        key = self._data_char(char_uuid, payload)
        if len(payload) < proto.HEADER_LEN + 2:
            raise self.error("a packet is an 8-byte header and at least one sample", payload)
        head = np.frombuffer(payload[: proto.HEADER_LEN], dtype=proto.HEADER)[0]
        seq, first, config, flags = (int(head[k]) for k in ("seq", "first", "config", "flags"))
        body = payload[proto.HEADER_LEN :]
        if key == proto.EMG_UUID:
            return self._emg(key, payload, body, seq, first, config, flags)
        return self._imu(key, payload, body, seq, first, config, flags)

    def _samples(self, payload: bytes, body: bytes, n_ch: int) -> np.ndarray:
        if len(body) % (2 * n_ch):
            raise self.error(
                f"{len(body)} sample bytes is not a whole number of {n_ch}-channel int16 samples",
                payload,
            )
        return np.frombuffer(body, dtype="<i2").reshape(-1, n_ch).T.astype(np.float64)

    def _emg(
        self, key: str, payload: bytes, body: bytes, seq: int, first: int, config: int, flags: int
    ) -> DecodedChunk:
        mask, rate_code = config & 0x0F, config >> 4
        if mask == 0 or rate_code not in proto.EMG_RATES:
            raise self.error(f"invalid EMG config byte 0x{config:02x}", payload)
        picked = [i for i in range(proto.MAX_EMG_CHANNELS) if mask >> i & 1]
        data = self._samples(payload, body, len(picked)) * proto.EMG_UV_PER_LSB
        return DecodedChunk(
            device=self.name,
            characteristic=key,
            kind="emg",
            data=data,
            channels=tuple(self.emg_labels[i] for i in picked),
            units=("uV",) * len(picked),
            channel_kinds=("emg",) * len(picked),
            fs=proto.EMG_RATES[rate_code],
            sequence=seq,
            first_sample=first,
            saturated=tuple(bool(flags >> i & 1) for i in picked),
            lead_off=tuple(bool(flags >> (i + 4) & 1) for i in picked),
        )

    def _imu(
        self, key: str, payload: bytes, body: bytes, seq: int, first: int, config: int, flags: int
    ) -> DecodedChunk:
        acc_code, gyro_code, rate_code = config & 0x03, config >> 2 & 0x07, config >> 5
        if gyro_code not in proto.GYRO_RANGES_DPS or rate_code not in proto.IMU_RATES:
            raise self.error(f"invalid IMU config byte 0x{config:02x}", payload)
        if flags >> 6:
            raise self.error(f"reserved IMU flag bits set in 0x{flags:02x}", payload)
        acc_scale = proto.ACC_RANGES_G[acc_code][1] / 1000.0
        gyro_scale = proto.GYRO_RANGES_DPS[gyro_code][1] / 1000.0
        scale = np.array([acc_scale] * 3 + [gyro_scale] * 3)[:, None]
        return DecodedChunk(
            device=self.name,
            characteristic=key,
            kind="imu",
            data=self._samples(payload, body, 6) * scale,
            channels=self.imu_labels,
            units=("g",) * 3 + ("deg/s",) * 3,
            channel_kinds=("acc",) * 3 + ("gyr",) * 3,
            fs=proto.IMU_RATES[rate_code],
            sequence=seq,
            first_sample=first,
            saturated=tuple(bool(flags >> i & 1) for i in range(6)),
        )
