"""Every profile against the shared decoder contract, plus the registry and discovery."""

from __future__ import annotations

import pytest

from nkt_motion.devices import PROFILES, find_profile, get_profile
from nkt_motion.errors import ValidationError

from .conformance import check_decoder
from .payloads import BUILDERS


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profile_conforms(name: str) -> None:
    check_decoder(PROFILES[name], BUILDERS[name])


def test_every_profile_has_payload_builder() -> None:
    assert (
        set(BUILDERS) == set(PROFILES) == {"nkt", "myo", "polar_h10", "polar_verity", "witmotion"}
    )


@pytest.mark.parametrize(
    ("adv_name", "uuids", "expected"),
    [
        ("NKT-EMG-01", [], "nkt"),
        (None, ["6E6B0001-3C4E-4B54-9D2A-6D6F74696F6E"], "nkt"),
        ("Myo", [], "myo"),
        (None, ["d5060001-a904-deb9-4748-2c7f4a124842"], "myo"),
        ("Polar H10 8C4CAD2B", ["180d"], "polar_h10"),
        ("Polar Sense B5AC2A2F", [], "polar_verity"),
        ("WT901BLE68", [], "witmotion"),
        (None, ["0000ffe5-0000-1000-8000-00805f9a34fb"], "witmotion"),
    ],
)
def test_find_profile(adv_name: str | None, uuids: list[str], expected: str) -> None:
    found = find_profile(adv_name, uuids)
    assert found is not None and found.name == expected


def test_find_profile_rejects_lookalikes() -> None:
    # The SIG-base form of WitMotion's UUID (...9b34fb) is a different UUID.
    assert find_profile(None, ["0000ffe5-0000-1000-8000-00805f9b34fb"]) is None
    # The PMD service alone does not tell H10 from Verity.
    assert find_profile(None, ["fb005c80-02e7-f387-1cad-8acd2d8df0c8"]) is None
    assert find_profile("Speaker", ["garbage", "180f"]) is None


def test_get_profile_options_and_errors() -> None:
    p = get_profile(
        "nkt", site="thigh_R", emg_labels=("EMG GMED L", "EMG ADL L", "EMG TFL L", "EMG QL R")
    )
    assert p.characteristics[1].channels[0] == "EMG GMED L"
    assert p.characteristics[2].channels[0] == "ACC X thigh_R"
    assert get_profile("myo") is PROFILES["myo"]
    with pytest.raises(ValidationError, match="device must be one of"):
        get_profile("fitbit")
    with pytest.raises(ValidationError):
        get_profile("nkt", site="elbow")
    with pytest.raises(ValidationError):
        get_profile("myo", colour="red")
    with pytest.raises(ValidationError):
        get_profile("witmotion", rate=33)
