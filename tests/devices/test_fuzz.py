"""Hypothesis fuzzing: any bytes give a chunk or a DecodeError, never anything else.

``NKT_FUZZ_EXAMPLES`` sets the number of examples per decoder (10^4 by default;
``make fuzz`` uses 10^6). Inputs are arbitrary bytes and mutations of valid
payloads (flipped bytes, truncation, extension) so the deep paths are reached.
"""

from __future__ import annotations

import os
import random
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nkt_motion.devices import PROFILES, DecodedChunk, WitMotionReassembler, nkt_commands, polar_cp
from nkt_motion.errors import DecodeError

from .payloads import BUILDERS

FUZZ = settings(
    max_examples=int(os.environ.get("NKT_FUZZ_EXAMPLES", "10000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _mutate(seed: bytes, key: int, noise: bytes) -> bytes:
    """Flip up to 3 bytes of a valid payload, then truncate or extend it."""
    rng = random.Random(key)
    data = bytearray(seed)
    for _ in range(rng.randint(0, 3)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    if rng.random() < 0.5:
        return bytes(data[: rng.randint(0, len(data))])
    return bytes(data) + noise[: rng.randint(0, 8)]


def _cases(name: str) -> list[tuple[str, bytes]]:
    profile = PROFILES[name]
    return [
        (spec.uuid, p)
        for spec in profile.notify_characteristics
        for size in (20, 244)
        for p in BUILDERS[name](spec.uuid, size)
    ]


def _check(name: str, uuid: str, payload: bytes) -> None:
    try:
        chunk = PROFILES[name].decode(uuid, payload)
    except DecodeError as exc:
        assert exc.device == name and exc.payload_len == len(payload)
        return
    assert isinstance(chunk, DecodedChunk)
    assert chunk.data.shape == (len(chunk.channels), chunk.n_samples)
    assert chunk.n_samples >= 1 and np.all(np.isfinite(chunk.data))


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_fuzz_decoder(name: str) -> None:
    cases = _cases(name)

    @FUZZ
    @given(st.binary(max_size=260))
    def run(noise: bytes) -> None:
        key = zlib.crc32(noise)  # one cheap strategy; the key picks case and mutation
        uuid, seed = cases[key % len(cases)]
        _check(name, uuid, noise)
        _check(name, uuid, _mutate(seed, key, noise))

    run()


@settings(FUZZ, max_examples=max(1000, FUZZ.max_examples // 10))
@given(st.binary(max_size=64))
def test_fuzz_control_point_parsers(data: bytes) -> None:
    for parse in (
        polar_cp.parse_response,
        polar_cp.parse_settings,
        polar_cp.parse_features,
        nkt_commands.parse_command,
        nkt_commands.parse_response,
    ):
        try:
            parse(data)
        except DecodeError as exc:
            assert exc.payload_len == len(data)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.binary(max_size=50), max_size=20))
def test_fuzz_witmotion_reassembler(chunks: list[bytes]) -> None:
    r = WitMotionReassembler()
    packets = [p for c in chunks for p in r.feed(c)]
    assert all(len(p) == 20 and p[0] == 0x55 and p[1] in (0x61, 0x71) for p in packets)
    assert r.dropped + 20 * len(packets) <= sum(map(len, chunks))
