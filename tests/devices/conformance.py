"""Shared conformance check run for every sensor profile (see ``check_decoder``)."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from nkt_motion.devices import DecodedChunk, DeviceProfile
from nkt_motion.errors import DecodeError

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

#: (characteristic uuid, max payload length) -> valid payloads; together they carry
#: every channel declared for the characteristic (one characteristic may multiplex
#: measurements, e.g. Polar ECG and ACC frames).
PayloadBuilder = Callable[[str, int], list[bytes]]


def _expect_decode_error(profile: DeviceProfile, uuid: str, payload: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        profile.decode(uuid, payload)
    assert info.value.device == profile.name
    assert info.value.payload_len == len(payload)


def _check_chunk(profile: DeviceProfile, uuid: str, chunk: DecodedChunk) -> None:
    spec = profile.characteristic(uuid)
    assert chunk.device == profile.name
    assert chunk.characteristic == uuid
    assert chunk.data.dtype == np.float64
    assert not chunk.data.flags.writeable
    assert chunk.n_samples >= 1
    assert np.all(np.isfinite(chunk.data))
    assert chunk.fs > 0
    declared = dict(zip(spec.channels, spec.units, strict=True))
    assert set(chunk.channels) <= set(declared)
    assert [declared[c] for c in chunk.channels] == list(chunk.units)
    order = [spec.channels.index(c) for c in chunk.channels]
    assert order == sorted(order)


def check_decoder(profile: DeviceProfile, build: PayloadBuilder) -> None:
    """Hold one profile to the contract every decoder shares.

    ``build(char_uuid, max_len)`` returns a valid payload of at most ``max_len``
    bytes carrying every declared channel of that characteristic when it fits.
    """
    uuids = [c.uuid for c in profile.characteristics]
    assert all(UUID_RE.match(u) for u in [profile.service_uuid, *uuids])
    assert len(set(uuids)) == len(uuids)
    assert profile.notify_characteristics, "a profile streams on at least one characteristic"
    for write in (*profile.start_commands(), *profile.stop_commands()):
        assert write.char_uuid in uuids and write.data
    control = [c.uuid for c in profile.characteristics if c.role == "control"]
    assert control and all(w.char_uuid in control for w in profile.start_commands())
    for spec in profile.notify_characteristics:
        assert spec.channels and len(spec.channels) == len(spec.units)
        seen: set[str] = set()
        for full in build(spec.uuid, 244):
            chunk = profile.decode(spec.uuid.upper(), full)
            _check_chunk(profile, spec.uuid, chunk)
            seen.update(chunk.channels)
            for bad in (b"", full[:-1], full + b"\x00", full[:1]):
                _expect_decode_error(profile, spec.uuid, bad)
        assert seen == set(spec.channels)
        for small in build(spec.uuid, 20):  # MTU 23: 20-byte notifications
            assert len(small) <= 20
            _check_chunk(profile, spec.uuid, profile.decode(spec.uuid, small))
    for spec in profile.characteristics:
        if spec.role != "data":
            valid = build(profile.notify_characteristics[0].uuid, 244)[0]
            _expect_decode_error(profile, spec.uuid, valid)
    _expect_decode_error(profile, "not-a-uuid", b"\x00" * 20)
