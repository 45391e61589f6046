"""WitMotion BWT901BLECL decoder, register commands and stream reassembly.

Sources: WITMOTION/WitBluetooth_BWT901BLE5_0@069867a9db41255f4a2945bfd7bd8ca9c4dbd022:
Python/BWT901BLE5.0_python_sdk/device_model.py (processData scales, get_readBytes,
get_writeBytes, unlock, save); WT901BLECL 5.0 manual pp. 16-18 (register answer
vector 55 71 3A 00 68 01 69 00 7A 00 -> 360, 105, 122; rate example FF AA 03 08 00).
"""

from __future__ import annotations

import itertools
import struct

import numpy as np
import pytest

from nkt_motion.devices.witmotion import (
    NOTIFY_UUID,
    WitMotionProfile,
    WitMotionReassembler,
    parse_register_response,
    rate_commands,
    read_register_command,
)
from nkt_motion.errors import DecodeError, ValidationError


def _oracle(packet: bytes) -> list[float]:
    """The vendor SDK's per-value formula, written out one value at a time."""
    values = struct.unpack("<9h", packet[2:20])
    scales = [16] * 3 + [2000] * 3 + [180] * 3
    return [v / 32768 * s for v, s in zip(values, scales, strict=True)]


def test_decode_matches_vendor_formula() -> None:
    rng = np.random.default_rng(1)
    packets = [
        b"\x55\x61" + rng.integers(-32768, 32767, 9).astype("<i2").tobytes() for _ in range(3)
    ]
    c = WitMotionProfile(rate=200).decode(NOTIFY_UUID, b"".join(packets))
    assert c.data.shape == (9, 3) and c.fs == 200.0
    for i, p in enumerate(packets):
        assert c.data[:, i].tolist() == pytest.approx(_oracle(p), rel=1e-12)
    assert c.channels[6:] == ("ANGLE roll_pelvis", "ANGLE pitch_pelvis", "ANGLE yaw_pelvis")
    assert c.units == ("g",) * 3 + ("deg/s",) * 3 + ("deg",) * 3


def test_register_answer_vector() -> None:
    r = parse_register_response(bytes.fromhex("55713A00680169007A00") + bytes(10))
    assert r.register == 0x3A and r.values[:3] == (360, 105, 122)
    with pytest.raises(DecodeError):
        WitMotionProfile().decode(NOTIFY_UUID, bytes.fromhex("55713A00680169007A00") + bytes(10))
    with pytest.raises(DecodeError):
        parse_register_response(bytes.fromhex("5561") + bytes(18))


def test_commands() -> None:
    assert [c.hex() for c in rate_commands(50)] == ["ffaa6988b5", "ffaa030800", "ffaa000000"]
    assert rate_commands(200)[1] == bytes.fromhex("FFAA030B00")
    assert read_register_command(0x51) == bytes.fromhex("FFAA275100")
    with pytest.raises(ValidationError):
        rate_commands(20)


def test_reassembler_split_concatenated_and_garbage() -> None:
    rng = np.random.default_rng(2)
    packets = [b"\x55\x61" + rng.integers(0, 256, 18, dtype=np.uint8).tobytes() for _ in range(5)]
    answer = bytes.fromhex("55713A00680169007A00") + bytes(10)
    stream = (
        b"\x00\x55\x12" + packets[0] + packets[1] + answer + packets[2] + packets[3] + packets[4]
    )
    cuts = [0, 1, 7, 30, 31, 64, 100, len(stream)]
    r = WitMotionReassembler()
    out = [p for a, b in itertools.pairwise(cuts) for p in r.feed(stream[a:b])]
    assert out == [packets[0], packets[1], answer, packets[2], packets[3], packets[4]]
    assert r.dropped == 3
    assert r.feed(packets[0][:19]) == [] and r.feed(packets[0][19:]) == [packets[0]]
