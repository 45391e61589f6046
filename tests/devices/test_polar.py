"""Polar PMD frames and control point against the SDK's unit-test vectors.

Sources (polarofficial/polar-ble-sdk, Android library tests):
- AccDataTest: @0aabf34a84cd3760ed5de52350a91340659ace95:sources/Android/android-communications/
  library/src/test/java/com/polar/androidcommunications/api/ble/model/gatt/client/pmd/model/
  AccDataTest.kt
- EcgDataTest: @1a53f05fdc78b157243760c3aebca277d9dfe8ee: same folder, EcgDataTest.kt
- BlePmdClientControlPointResponseTest.kt @2692dc448e7cc8bdaac65d7f6ac4f48c1aef748f (pmd/)
- PmdSettingTest.kt @f83e7bad67ecc691a96dcb5eacf8f72bc40801be (pmd/)
- Start commands: polar-ble-sdk@8fb5311c documentation (ble-protocols.md, section 2).
"""

from __future__ import annotations

import numpy as np
import pytest

from nkt_motion.devices import polar_cp as cp
from nkt_motion.devices.polar import DATA_UUID, PolarPmdProfile, sample_times_ns
from nkt_motion.errors import DecodeError, ValidationError

from .payloads import ACC_COMPRESSED_57, pmd_frame

ACC_TYPE1_CONTENT = bytes.fromhex(
    "F7FFFFFFE703F8FFFEFFE503F9FFFFFFE503FAFFFFFFE603FAFFFEFFE603F9FFFFFFE503F8FFFFFFE603"
    "F8FFFEFFE603FAFFFFFFE503FAFFFFFFE703FAFFFFFFE503F8FFFFFFE603F7FFFFFFE603F8FFFEFFE603"
    "F9FFFEFFE703F9FF0000E603F9FFFFFFE603F7FFFEFFE503F9FFFFFFE503F9FFFFFFE503FAFF0000E603"
    "F9FFFEFFE603F8FFFFFFE603F8FFFFFFE503F9FFFFFFE603F9FFFFFFE503FAFFFFFFE603F9FFFFFFE503"
    "F9FFFFFFE503F8FFFEFFE603F9FFFFFFE603F9FFFFFFE603F9FF0000E503F9FFFEFFE603F8FFFEFFE603"
    "F7FFFEFFE603"
)
TS = 2_000_000_000  # header bytes 00 94 35 77 00 00 00 00


def test_ecg_raw_type0() -> None:
    c = PolarPmdProfile(model="h10").decode(
        DATA_UUID, pmd_frame(0, 0, bytes.fromhex("0280FF028000"))
    )
    assert c.data.tolist() == [[-32766.0, 32770.0]]
    assert (c.kind, c.units, c.fs, c.device_time_ns) == ("ecg", ("uV",), 130.0, TS)


def test_acc_raw_type1() -> None:
    c = PolarPmdProfile(model="h10").decode(DATA_UUID, pmd_frame(2, 0x01, ACC_TYPE1_CONTENT))
    assert c.n_samples == len(ACC_TYPE1_CONTENT) // 6 == 36
    mg = np.rint(c.data * 1000).astype(int)
    assert mg[:, 0].tolist() == [-9, -1, 999]
    assert mg[:, 1].tolist() == [-8, -2, 997]
    assert c.units == ("g", "g", "g") and c.channels[0] == "ACC X trunk"
    times = sample_times_ns(c.device_time_ns or 0, c.n_samples, fs=52.0)
    assert times[-1] == TS and np.allclose(np.diff(times), 1e9 / 52, atol=1)


def test_acc_raw_types_0_and_2_widths() -> None:
    p = PolarPmdProfile(model="h10")
    assert p.decode(DATA_UUID, pmd_frame(2, 0x00, bytes([0xFF, 0x01, 0x80]))).data[
        :, 0
    ].tolist() == [-0.001, 0.001, -0.128]
    c = p.decode(DATA_UUID, pmd_frame(2, 0x02, bytes.fromhex("FFFFFF010000000080")))
    assert (c.data[:, 0] * 1000).round().tolist() == [-1.0, 1.0, -8388608.0]


def test_acc_compressed_type0_57_samples() -> None:
    frame = pmd_frame(2, 0x80, ACC_COMPRESSED_57)
    raw = PolarPmdProfile(model="verity").decode(DATA_UUID, frame).data
    assert raw.shape == (3, 57)
    assert raw[:, 0].tolist() == [1905, 27376, -29282]
    assert raw[:, 1].tolist() == [1905 + 190, 27376 - 105, -29282 - 85]
    factor = 2.44e-4
    c = PolarPmdProfile(model="verity").with_factor("acc", factor).decode(DATA_UUID, frame)
    expected = np.trunc(np.float32(factor) * raw[:, :2] * np.float32(1000))  # Kotlin toInt()
    assert np.all(np.abs(c.data[:, :2] * 1000 - expected) < 1)
    assert np.all(np.abs(c.data) <= 8)  # the test's range check: 8 g
    times = sample_times_ns(TS, 57, previous_ns=100)
    assert times[0] == round(100 + (TS - 100) / 57) and times[-1] == TS


def test_acc_compressed_type1() -> None:
    frame = bytes.fromhex("02650000000000000081") + bytes.fromhex("F1FF1400F00306017B0F08")
    c = PolarPmdProfile(model="verity").decode(DATA_UUID, frame)
    assert (c.data * 1000).round().tolist() == [[-15, -20], [20, 17], [1008, 1008]]
    assert c.device_time_ns == 101
    assert sample_times_ns(101, 2, previous_ns=100).tolist() == [100, 101]


def test_gyro_compressed_uses_factor() -> None:
    p = PolarPmdProfile(model="verity").with_factor("gyro", 0.5)
    c = p.decode(DATA_UUID, pmd_frame(5, 0x80, bytes.fromhex("F1FF1400F00306017B0F08")))
    assert c.data.tolist() == [[-7.5, -10.0], [10.0, 8.5], [504.0, 504.0]]
    assert c.units == ("deg/s",) * 3 and c.channels[0] == "GYR X arm_L"


@pytest.mark.parametrize(
    "frame",
    [
        pmd_frame(1, 0x00, bytes(6)),  # PPG is not decoded here
        pmd_frame(0, 0x80, bytes(6)),  # compressed ECG
        pmd_frame(5, 0x00, bytes(6)),  # raw gyro
        pmd_frame(2, 0x03, bytes(6)),  # unknown ACC frame type
        pmd_frame(2, 0x80, bytes.fromhex("F1FF1400F00320FF")),  # 32-bit x 255 deltas
        pmd_frame(2, 0x80, bytes.fromhex("F1FF1400F00321010000")),  # width > 32
    ],
)
def test_unsupported_or_bad_frames(frame: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        PolarPmdProfile(model="verity").decode(DATA_UUID, frame)
    assert info.value.payload_len == len(frame)


def test_start_stop_sdk_commands() -> None:
    assert cp.start_command("ecg", sample_rate=130, resolution=14) == bytes.fromhex(
        "02000001820001010E00"
    )
    assert cp.start_command("acc", sample_rate=200, resolution=16, range_=8) == bytes.fromhex(
        "02020001C8000101100002010800"
    )
    assert cp.stop_command("acc") == b"\x03\x02"
    assert cp.sdk_mode_command(enable=False) == b"\x03\x09"
    assert cp.get_settings_command("gyro") == b"\x01\x05"
    with pytest.raises(ValidationError):
        cp.start_command("eeg", sample_rate=1, resolution=1)
    with pytest.raises(ValidationError):
        cp.start_command("acc", sample_rate=70000, resolution=16)


def test_control_point_responses() -> None:
    ok = cp.parse_response(bytes.fromhex("F001020000FFFFFF"))
    assert (ok.op_name, ok.measurement_name, ok.status_name, ok.more) == (
        "GET_MEASUREMENT_SETTINGS",
        "acc",
        "SUCCESS",
        False,
    )
    assert ok.parameters == b"\xff\xff\xff"
    bad = cp.parse_response(bytes.fromhex("F001060700"))
    assert (bad.ok, bad.status_name, bad.measurement_name, bad.parameters) == (
        False,
        "ERROR_INVALID_RESOLUTION",
        "mag",
        b"",
    )
    assert cp.parse_response(bytes.fromhex("F0020063")).status_name == "UNKNOWN_STATUS_0x63"
    for raw in (b"", bytes.fromhex("F001"), bytes.fromhex("0F010200")):
        with pytest.raises(DecodeError):
            cp.parse_response(raw)


def test_settings_and_features() -> None:
    s = cp.parse_settings(bytes.fromhex("00013400010110000204F500F401E803D007040103"))
    assert s == {
        "sample_rate": (52.0,),
        "resolution": (16.0,),
        "range": (245.0, 500.0, 1000.0, 2000.0),
        "channels": (3.0,),
    }
    milli = cp.parse_settings(bytes.fromhex("0302FFFFFFFFFF00000001010E00"))
    assert milli == {"range_milliunit": (-1.0, 255.0), "resolution": (14.0,)}
    factor = cp.parse_settings(b"\x05\x01" + np.float32(2.44e-4).tobytes())["factor"][0]
    assert factor == pytest.approx(2.44e-4, rel=1e-6)
    assert cp.parse_features(bytes.fromhex("0F2502")) == {"ecg", "acc", "gyro", "sdk_mode"}
    with pytest.raises(DecodeError):
        cp.parse_settings(bytes.fromhex("000134"))


def test_sample_times_validation() -> None:
    with pytest.raises(ValidationError):
        sample_times_ns(10, 3)
    with pytest.raises(ValidationError):
        sample_times_ns(10, 3, previous_ns=20)
    with pytest.raises(ValidationError):
        PolarPmdProfile(model="verity").with_factor("acc", -1.0)
