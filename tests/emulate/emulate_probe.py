"""A small test-only GATT profile: a probe sensor with a data, a control and an info char."""

from __future__ import annotations

import struct

from nkt_motion.emulate import CharacteristicSpec, EmulatedSensor, GattRefusal, ServiceSpec

SERVICE = "6e6b7400-0000-4000-8000-00000000a001"
DATA = "6e6b7400-0000-4000-8000-00000000a002"
CONTROL = "6e6b7400-0000-4000-8000-00000000a003"
INFO = "6e6b7400-0000-4000-8000-00000000a004"
INFO_VALUE = b"probe-v1"
HEADER = struct.Struct("<Id")  # seq, device time in seconds


def start_command(rate_hz: int, size: int = 20) -> bytes:
    return bytes([0x01]) + struct.pack("<HB", rate_hz, size)


STOP = bytes([0x02])


def parse(payload: bytes | bytearray) -> tuple[int, float]:
    return HEADER.unpack_from(payload)


class ProbeSensor(EmulatedSensor):
    """Streams ``<seq u32><device time f64>`` padded to the size asked by the start command."""

    def gatt_services(self) -> tuple[ServiceSpec, ...]:
        return (
            ServiceSpec(
                SERVICE,
                (
                    CharacteristicSpec(DATA, ("notify",)),
                    CharacteristicSpec(
                        CONTROL, ("write", "write-without-response"), on_write=self._command
                    ),
                    CharacteristicSpec(INFO, ("read",), value=INFO_VALUE, description="info"),
                ),
            ),
        )

    def _command(self, value: bytes) -> None:
        if value == STOP:
            self._spawn(self.stop_stream(DATA))
            return
        if len(value) != 4 or value[0] != 0x01:
            raise GattRefusal(f"unknown command {value.hex()}")
        rate, size = struct.unpack_from("<HB", value, 1)
        if not 1 <= rate <= 5000 or not HEADER.size <= size <= 244:
            raise GattRefusal(f"bad start parameters rate={rate} size={size}")

        def packet(seq: int, t: float) -> bytes:
            return HEADER.pack(seq, t).ljust(size, b"\xa5")

        self.start_stream(DATA, packet, rate_hz=float(rate))
