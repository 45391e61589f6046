"""Valid synthetic payloads per profile and characteristic, for conformance and fuzz seeds."""

from __future__ import annotations

import numpy as np

from nkt_motion.devices import nkt_protocol as nkt
from nkt_motion.devices import polar
from nkt_motion.devices import witmotion as wit
from nkt_motion.devices.myo import EMG_UUIDS, IMU_UUID

RNG_SEED = 20240611


def nkt_payload(uuid: str, max_len: int) -> list[bytes]:
    rng = np.random.default_rng(RNG_SEED)
    if uuid == nkt.EMG_UUID:
        channels = (1, 2, 3, 4) if max_len >= 16 else (1,)
        n = nkt.max_samples_per_packet(len(channels), mtu=max_len + 3)
        uv = rng.integers(-3000, 3000, size=(len(channels), n)).astype(float)
        return [nkt.encode_emg_packet(uv, sequence=3, first_sample=60, channels=channels)]
    n = nkt.max_samples_per_packet(6, mtu=max_len + 3)
    acc = rng.uniform(-1.5, 1.5, size=(3, n))
    gyro = rng.uniform(-300, 300, size=(3, n))
    return [nkt.encode_imu_packet(acc, gyro, sequence=9, first_sample=6)]


def myo_payload(uuid: str, max_len: int) -> list[bytes]:
    if uuid == IMU_UUID:
        return [bytes.fromhex("3e2eab2be5f824004e01bd0757000300f5fffcff")]
    assert uuid in EMG_UUIDS
    return [bytes.fromhex("090d01fefefefa0206e9fcfdfcfe0502")]


def pmd_frame(measurement: int, frame_type: int, content: bytes, ts: int = 2_000_000_000) -> bytes:
    return bytes([measurement]) + ts.to_bytes(8, "little") + bytes([frame_type]) + content


#: AccDataTest "process acc compressed data type 0": 57 samples, 10-bit deltas.
ACC_COMPRESSED_57 = bytes.fromhex(
    "7107F06A9E8D0A38BE5CBEBA2F96B3EE4BE5ADFB42B9EBBE4CFEBA2F92BFEE4BE4B1FB12B9ECBD3C3EBB2F"
    "8FD3DE4BE3B5F7D2B8EDBD307E7B2F8BE3CE8BE2BAF7A2B8EEBC20BE7B2F88F3CECBE1BDEF52F8EFBC18FE"
    "3B2F8403BFCBE0C2EF32B8F0BB044EBC2E8113AF0BE0C6EFF2F7F1B9FC7DBC2E7D279F4BDFCAEBC2F7F2B8"
    "ECCD7C2E7B378F4BDECEE392F7F3B8E00DFD2D774B7FCBDDD2DF6237F5B7D44DBD2D745B6FCBDCD7D73237"
    "F6B5C88D7D2D716B4F4BDCDCD3F236F7B4BCDDFD2C6F7B3F4BDBE0CFD236F8B2B02DBE2C6C8F1FCBDAE3C7"
    "A276F9"
)


def polar_h10_payload(uuid: str, max_len: int) -> list[bytes]:
    assert uuid == polar.DATA_UUID
    ecg = pmd_frame(0, 0x00, bytes.fromhex("0280ff028000"))
    n = (max_len - 10) // 6
    return [ecg, pmd_frame(2, 0x01, bytes.fromhex("f7ffffffe703") * n)]


def polar_verity_payload(uuid: str, max_len: int) -> list[bytes]:
    assert uuid == polar.DATA_UUID
    if max_len <= 20:  # reference sample + one zero-width block of 5 samples
        return [pmd_frame(5, 0x80, bytes.fromhex("f1ff1400f0030005"))]
    return [pmd_frame(2, 0x80, ACC_COMPRESSED_57), pmd_frame(5, 0x80, ACC_COMPRESSED_57)]


def witmotion_payload(uuid: str, max_len: int) -> list[bytes]:
    assert uuid == wit.NOTIFY_UUID
    rng = np.random.default_rng(RNG_SEED)
    n = max(1, max_len // wit.PACKET_LEN)
    body = rng.integers(-32768, 32767, size=(n, 9)).astype("<i2").tobytes()
    return [b"".join(b"\x55\x61" + body[18 * i : 18 * (i + 1)] for i in range(n))]


BUILDERS = {
    "nkt": nkt_payload,
    "myo": myo_payload,
    "polar_h10": polar_h10_payload,
    "polar_verity": polar_verity_payload,
    "witmotion": witmotion_payload,
}
