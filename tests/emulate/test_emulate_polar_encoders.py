"""PMD frame encoders round-trip through the real decoders of ``nkt_motion.devices``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nkt_motion.devices import PolarPmdProfile
from nkt_motion.devices._packing import decode_delta_frame, unpack_signed_lsb_first
from nkt_motion.devices.polar import DATA_UUID
from nkt_motion.emulate.encoders import (
    delta_frame_capacity,
    encode_delta_content,
    encode_pmd_frame,
    encode_raw_content,
    pack_signed_lsb_first,
    quantise,
)
from nkt_motion.errors import ValidationError


def test_raw_acc_frame_reproduces_the_sdk_vector() -> None:
    content = encode_raw_content([[-9, -8], [-1, -2], [999, 997]], 2)
    frame = encode_pmd_frame(2, 2_000_000_000, 1, content)
    assert frame.hex() == "02009435770000000001f7ffffffe703f8fffeffe503"
    chunk = PolarPmdProfile(model="h10").decode(DATA_UUID, frame)
    assert chunk.device_time_ns == 2_000_000_000
    np.testing.assert_array_equal(chunk.data * 1000, [[-9, -8], [-1, -2], [999, 997]])


def test_ecg_int24_frame_round_trips() -> None:
    uv = np.array([[-32766, 32770, -(1 << 23), (1 << 23) - 1, 0]])
    frame = encode_pmd_frame(0, 7, 0, encode_raw_content(uv, 3))
    chunk = PolarPmdProfile(model="h10").decode(DATA_UUID, frame)
    np.testing.assert_array_equal(chunk.data, uv)


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(1, 32),
    data=st.data(),
)
def test_lsb_first_packing_inverts_the_decoder_unpacking(width: int, data: st.DataObject) -> None:
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    values = data.draw(st.lists(st.integers(lo, hi), min_size=0, max_size=40))
    packed = pack_signed_lsb_first(values, width)
    assert len(packed) == -(-len(values) * width // 8)
    assert unpack_signed_lsb_first(packed, width, len(values)).tolist() == values


def test_delta_content_reproduces_the_decoder_vector() -> None:
    content = encode_delta_content([[-15, -20], [20, 17], [1008, 1008]], 2, bit_width=6)
    assert content[:8] == bytes.fromhex("f1ff1400f0030601")
    assert decode_delta_frame(content, 3, 2).tolist() == [[-15, -20], [20, 17], [1008, 1008]]


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 600),
    step=st.integers(0, 40000),
    seed=st.integers(0, 2**32 - 1),
)
def test_delta_frames_round_trip_any_16_bit_walk(n: int, step: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.integers(-step, step + 1, size=(3, n)), axis=1)
    counts = np.clip(walk, -32768, 32767)
    content = encode_delta_content(counts, 2)
    np.testing.assert_array_equal(decode_delta_frame(content, 3, 2), counts)


def test_compressed_gyro_frame_decodes_with_the_reported_factor() -> None:
    factor = float(np.float32(4000 / 65536))
    dps = np.array([[0.0, 10.0, -250.0], [1.0, 2.0, 3.0], [1999.0, -1999.0, 0.5]])
    counts = quantise(dps, factor, 16)
    frame = encode_pmd_frame(5, 123, 0x80, encode_delta_content(counts, 2))
    profile = PolarPmdProfile(model="verity").with_factor("gyro", factor)
    chunk = profile.decode(DATA_UUID, frame)
    np.testing.assert_allclose(chunk.data, counts * factor, rtol=0, atol=1e-12)
    assert np.max(np.abs(chunk.data - dps)) <= factor / 2 + 1e-12


def test_delta_frame_capacity_is_the_worst_case_that_fits() -> None:
    n = delta_frame_capacity(244, 3, 2, 16)
    worst = np.zeros((3, n), dtype=np.int64)
    worst[:, 1::2] = -32768
    worst[:, ::2] = 32767
    frame = encode_pmd_frame(2, 0, 0x80, encode_delta_content(worst, 2))
    assert len(frame) <= 244
    more = np.concatenate([worst, worst[:, -2:-1]], axis=1)
    assert len(encode_pmd_frame(2, 0, 0x80, encode_delta_content(more, 2))) > 244
    assert delta_frame_capacity(17, 3, 2, 16) == 0


def test_encoders_reject_values_that_do_not_fit() -> None:
    with pytest.raises(ValidationError, match="int16"):
        encode_raw_content([[40000]], 2)
    with pytest.raises(ValidationError, match="signed bits"):
        pack_signed_lsb_first([8], 4)
    with pytest.raises(ValidationError, match="u64"):
        encode_pmd_frame(0, -1, 0, b"")
    assert quantise([1e9, -1e9], 1.0, 24).tolist() == [(1 << 23) - 1, -(1 << 23)]
