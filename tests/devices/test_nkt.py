"""The open nkt sensor: encoder -> decoder round trips, flags, counters, commands.

The protocol is ours (firmware_notes/nkt-sensor-profile.md); the vectors below are
written out byte by byte from that specification.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nkt_motion.devices import nkt_commands as cmd
from nkt_motion.devices import nkt_protocol as proto
from nkt_motion.devices.nkt import NktProfile
from nkt_motion.errors import DecodeError, ValidationError, VocabularyError


def test_spec_vector_emg() -> None:
    # seq 0x0102, first sample 1000, config 0x15 = ch1+ch3 at 2 kHz, flags: ch3 saturated,
    # ch1 lead-off; samples (ch1, ch3) = (-5, 300), (7, -32768)
    packet = bytes.fromhex("0201e80300001514fbff2c0107000080")
    c = NktProfile().decode(proto.EMG_UUID, packet)
    assert (c.sequence, c.first_sample, c.fs) == (0x0102, 1000, 2000.0)
    assert c.channels == ("EMG ch1", "EMG ch3")
    assert c.data.tolist() == [[-5.0, 7.0], [300.0, -32768.0]]
    assert c.saturated == (False, True) and c.lead_off == (True, False)
    assert c.units == ("uV", "uV")


def test_spec_vector_imu() -> None:
    # config 0x32: acc code 2 (+-8 g, 0.244 mg/LSB), gyro code 4 (2000 dps, 70 mdps/LSB),
    # 200 Hz; one sample acc (4098, 0, -4098), gyro (1000, -1, 0)
    packet = bytes.fromhex("05000a000000320002100000feefe803ffff0000")
    c = NktProfile(site="sacrum").decode(proto.IMU_UUID, packet)
    assert c.fs == 200.0 and c.channels[0] == "ACC X sacrum" and c.channels[3] == "GYR X sacrum"
    assert c.data[:, 0] == pytest.approx([0.999912, 0, -0.999912, 70.0, -0.07, 0.0])


@settings(max_examples=200, deadline=None)
@given(
    st.sets(st.integers(1, 4), min_size=1),
    st.integers(1, 29),
    st.sampled_from([1000.0, 2000.0]),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFFFFFF),
    st.integers(0, 2**32 - 1),
)
def test_emg_round_trip(
    chans: set[int], n: int, rate: float, seq: int, first: int, seed: int
) -> None:
    channels = tuple(sorted(chans))
    rng = np.random.default_rng(seed)
    uv = rng.integers(-32768, 32768, size=(len(channels), n)).astype(float)
    sat = tuple(bool(b) for b in rng.integers(0, 2, len(channels)))
    off = tuple(bool(b) for b in rng.integers(0, 2, len(channels)))
    packet = proto.encode_emg_packet(
        uv,
        sequence=seq,
        first_sample=first,
        rate=rate,
        channels=channels,
        saturated=sat,
        lead_off=off,
    )
    c = NktProfile().decode(proto.EMG_UUID, packet)
    assert np.array_equal(c.data, uv)
    assert (c.sequence, c.first_sample, c.fs) == (seq, first, rate)
    assert c.channels == tuple(f"EMG ch{i}" for i in channels)
    assert c.saturated == sat and c.lead_off == off


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 19),
    st.sampled_from(sorted(proto.ACC_RANGES_G)),
    st.sampled_from(sorted(proto.GYRO_RANGES_DPS)),
    st.sampled_from([100.0, 200.0]),
    st.integers(0, 2**32 - 1),
)
def test_imu_round_trip(n: int, acc_code: int, gyro_code: int, rate: float, seed: int) -> None:
    acc_range, acc_mg = proto.ACC_RANGES_G[acc_code]
    gyro_range, gyro_mdps = proto.GYRO_RANGES_DPS[gyro_code]
    rng = np.random.default_rng(seed)
    acc = rng.uniform(-acc_range, acc_range, size=(3, n)) * 0.99
    gyro = rng.uniform(-gyro_range, gyro_range, size=(3, n)) * 0.99
    packet = proto.encode_imu_packet(
        acc,
        gyro,
        sequence=1,
        first_sample=2,
        rate=rate,
        acc_range_g=acc_range,
        gyro_range_dps=gyro_range,
    )
    c = NktProfile().decode(proto.IMU_UUID, packet)
    assert np.all(np.abs(c.data[:3] - acc) <= acc_mg / 2000 + 1e-12)
    assert np.all(np.abs(c.data[3:] - gyro) <= gyro_mdps / 2000 + 1e-12)
    assert c.fs == rate and c.saturated == (False,) * 6


def test_encoder_flags_clipping() -> None:
    packet = proto.encode_emg_packet([[40000.0, 0.0]], sequence=0, first_sample=0, channels=(2,))
    c = NktProfile().decode(proto.EMG_UUID, packet)
    assert c.data.tolist() == [[32767.0, 0.0]] and c.saturated == (True,)
    imu = proto.encode_imu_packet([[9.0], [0.0], [0.0]], [[0.0]] * 3, sequence=0, first_sample=0)
    assert NktProfile().decode(proto.IMU_UUID, imu).saturated == (True,) + (False,) * 5
    with pytest.raises(ValidationError):
        proto.encode_emg_packet([[1.0]], sequence=70000, first_sample=0, channels=(1,))
    with pytest.raises(ValidationError):
        proto.encode_emg_packet([[1.0], [2.0]], sequence=0, first_sample=0, channels=(3, 1))
    with pytest.raises(ValidationError):
        proto.encode_emg_packet([[np.nan]], sequence=0, first_sample=0, channels=(1,))


def test_mtu_23_packets_and_sizes() -> None:
    assert proto.max_samples_per_packet(4) == 29
    assert proto.max_samples_per_packet(6) == 19
    assert proto.max_samples_per_packet(1, mtu=23) == 6
    assert proto.max_samples_per_packet(6, mtu=23) == 1
    packet = proto.encode_emg_packet(
        np.arange(6.0)[None], sequence=0, first_sample=0, channels=(4,)
    )
    assert len(packet) == 20
    assert NktProfile().decode(proto.EMG_UUID, packet).data.tolist() == [list(np.arange(6.0))]


@pytest.mark.parametrize(
    "packet",
    [
        "00000000000000000000",  # empty channel mask
        "00000000000021000000",  # EMG rate code 2
        "0000000000000300000000",  # odd sample bytes for 2 channels
    ],
)
def test_bad_emg_packets(packet: str) -> None:
    with pytest.raises(DecodeError):
        NktProfile().decode(proto.EMG_UUID, bytes.fromhex(packet))


def test_bad_imu_config() -> None:
    body = bytes(12)
    for config, flags in ((0x14, 0), (0x40, 0), (0x00, 0x40)):  # gyro code 5, rate 2, flag bit 6
        with pytest.raises(DecodeError):
            NktProfile().decode(proto.IMU_UUID, bytes(6) + bytes([config, flags]) + body)


def test_commands_round_trip_through_parser() -> None:
    assert cmd.start_command(emg=True, imu=False) == b"\x01\x01"
    assert cmd.configure_emg_command(rate=2000, channels=(1, 2, 3, 4)) == bytes.fromhex("03010f")
    parsed = cmd.parse_command(
        cmd.configure_imu_command(rate=100, acc_range_g=16, gyro_range_dps=125)
    )
    assert parsed.op == "configure_imu"
    assert dict(parsed.params) == {"rate": 100.0, "acc_range_g": 16.0, "gyro_range_dps": 125.0}
    assert cmd.parse_command(cmd.stop_command()).op == "stop"
    assert dict(cmd.parse_command(b"\x01\x02").params) == {"emg": 0.0, "imu": 1.0}
    for bad in (
        b"",
        b"\x09",
        b"\x01\x00",
        b"\x03\x02\x01",
        b"\x03\x00\x10",
        b"\x04\x00\x00\x05",
        b"\x02\x00",
    ):
        with pytest.raises(DecodeError):
            cmd.parse_command(bad)
    with pytest.raises(ValidationError, match="rate must be one of 1000, 2000 Hz"):
        cmd.configure_emg_command(rate=500)
    with pytest.raises(ValidationError):
        cmd.configure_emg_command(channels=(0, 5))
    with pytest.raises(ValidationError):
        cmd.start_command(emg=False, imu=False)


def test_responses() -> None:
    r = cmd.parse_response(bytes.fromhex("f00302"))
    assert (r.op_name, r.ok, r.status_name) == ("configure_emg", False, "ERROR_INVALID_PARAMETER")
    with pytest.raises(DecodeError):
        cmd.parse_response(bytes.fromhex("f003"))


def test_profile_labels_validated() -> None:
    p = NktProfile(emg_labels=("EMG GMED L", "EMG ADL L", "EMG TFL L", "EMG QL L"))
    assert p.characteristics[1].channels == ("EMG GMED L", "EMG ADL L", "EMG TFL L", "EMG QL L")
    with pytest.raises(ValidationError):
        NktProfile(emg_labels=("a", "b"))
    with pytest.raises(VocabularyError, match="unknown muscle"):
        NktProfile(emg_labels=("EMG FOO L", "EMG ADL L", "EMG TFL L", "EMG QL L"))
