"""Myo decoder against the dl-myo test vectors.

Source: iomz/dl-myo@023beecb82d65682cc57220368f02b5be5ce017a:tests/test_myo/test_types.py
(test_emg_data, test_imu_data); commands from thalmiclabs/myo-bluetooth@c79c1a5:myohw.h.
"""

from __future__ import annotations

import numpy as np
import pytest

from nkt_motion.devices.myo import (
    EMG_UUIDS,
    IMU_UUID,
    MyoProfile,
    deep_sleep_command,
    set_mode_command,
    vibrate_command,
)
from nkt_motion.errors import ValidationError

EMG_VECTORS = [
    (
        "090d01fefefefa0206e9fcfdfcfe0502",
        (9, 13, 1, -2, -2, -2, -6, 2, 6, -23, -4, -3, -4, -2, 5, 2),
    ),
    ("fe0200ff0000ff0304110000fefe0304", (-2, 2, 0, -1, 0, 0, -1, 3, 4, 17, 0, 0, -2, -2, 3, 4)),
    (
        "05fe00000204151ef2f3fffe02fc01ed",
        (5, -2, 0, 0, 2, 4, 21, 30, -14, -13, -1, -2, 2, -4, 1, -19),
    ),
    ("021100fe00fdfd0504ff020100040801", (2, 17, 0, -2, 0, -3, -3, 5, 4, -1, 2, 1, 0, 4, 8, 1)),
    (
        "fffbfd00ff000001ff00fffffefcfe08",
        (-1, -5, -3, 0, -1, 0, 0, 1, -1, 0, -1, -1, -2, -4, -2, 8),
    ),
]
IMU_VECTORS = [
    (
        "3e2eab2be5f824004e01bd0757000300f5fffcff",
        (0.7225341796875, 0.68231201171875, -0.11102294921875, 0.002197265625),
        (0.1630859375, 0.96728515625, 0.04248046875),
        (0.1875, -0.6875, -0.25),
    ),
    (
        "0a2ee12be5f810005b01c6075300f1ff0400f7ff",
        (0.7193603515625, 0.68560791015625, -0.11102294921875, 0.0009765625),
        (0.16943359375, 0.9716796875, 0.04052734375),
        (-0.9375, 0.25, -0.5625),
    ),
    (
        "5c2d9e2c23f99cff03fc1a06eaf94900feffe3ff",
        (0.708740234375, 0.6971435546875, -0.10723876953125, -0.006103515625),
        (-0.49853515625, 0.7626953125, -0.7607421875),
        (4.5625, -0.125, -1.8125),
    ),
]


@pytest.mark.parametrize(("blob", "expected"), EMG_VECTORS)
@pytest.mark.parametrize("uuid", EMG_UUIDS)
def test_emg_vectors(uuid: str, blob: str, expected: tuple[int, ...]) -> None:
    c = MyoProfile().decode(uuid, bytes.fromhex(blob))
    assert c.data.shape == (8, 2) and c.fs == 200.0 and c.units == ("a.u.",) * 8
    assert c.data[:, 0].tolist() == list(expected[:8])
    assert c.data[:, 1].tolist() == list(expected[8:])
    assert c.sequence is None and c.device_time_ns is None


@pytest.mark.parametrize(("blob", "quat", "acc", "gyro"), IMU_VECTORS)
def test_imu_vectors(
    blob: str, quat: tuple[float, ...], acc: tuple[float, ...], gyro: tuple[float, ...]
) -> None:
    c = MyoProfile(site="arm_L").decode(IMU_UUID, bytes.fromhex(blob))
    assert c.data[:, 0].tolist() == [*quat, *acc, *gyro]
    assert c.channels[:5] == (
        "QUAT W arm_L",
        "QUAT X arm_L",
        "QUAT Y arm_L",
        "QUAT Z arm_L",
        "ACC X arm_L",
    )
    assert c.fs == 50.0


def test_imu_is_little_endian() -> None:
    raw = bytes.fromhex(IMU_VECTORS[0][0])
    q_le = np.frombuffer(raw[:8], dtype="<i2") / 16384.0
    q_be = np.frombuffer(raw[:8], dtype=">i2") / 16384.0
    assert np.linalg.norm(q_le) == pytest.approx(1.0, abs=2e-3)
    assert abs(np.linalg.norm(q_be) - 1.0) > 0.5
    decoded = MyoProfile().decode(IMU_UUID, raw).data[:4, 0]
    assert np.linalg.norm(decoded) == pytest.approx(1.0, abs=2e-3)


def test_commands() -> None:
    assert set_mode_command(emg="raw", imu="data") == bytes.fromhex("0103030100")
    assert set_mode_command(emg="filtered", imu="raw", classifier=True) == bytes.fromhex(
        "0103020401"
    )
    assert vibrate_command(3) == bytes.fromhex("030103")
    assert deep_sleep_command() == bytes.fromhex("0400")
    with pytest.raises(ValidationError):
        vibrate_command(4)
    with pytest.raises(ValidationError):
        set_mode_command(emg="loud")  # type: ignore[arg-type]
