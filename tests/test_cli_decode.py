"""``nkt-motion decode``: JSON on stdout, clear errors with exit status 2."""

from __future__ import annotations

import json

import pytest

from nkt_motion.cli import main
from nkt_motion.devices import nkt_protocol as proto


def test_decode_polar_ecg_json(capsys: pytest.CaptureFixture[str]) -> None:
    # EcgDataTest vector (polarofficial/polar-ble-sdk, see tests/devices/test_polar.py)
    rc = main(
        [
            "decode",
            "--device",
            "polar_h10",
            "--char",
            "FB005C82",
            "00 0094357700000000 00 0280FF 028000",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["device"] == "polar_h10"
    assert out["characteristic"] == "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
    assert (out["fs"], out["units"], out["channels"]) == (130.0, ["uV"], ["ECG"])
    assert out["samples"] == [[-32766.0, 32770.0]]
    assert out["device_time_ns"] == 2_000_000_000
    assert out["sample_times_ns"] == [2_000_000_000 - round(1e9 / 130), 2_000_000_000]


def test_decode_nkt_counters(capsys: pytest.CaptureFixture[str]) -> None:
    packet = proto.encode_emg_packet([[12.0, -3.0]], sequence=9, first_sample=77, channels=(3,))
    rc = main(["decode", "--device", "nkt", "--char", proto.EMG_UUID, packet.hex()])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert (out["sequence"], out["first_sample"], out["fs"]) == (9, 77, 2000.0)
    assert out["channels"] == ["EMG ch3"] and out["samples"] == [[12.0, -3.0]]
    assert out["saturated"] == [False] and out["lead_off"] == [False]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "myo", "--char", "d5060105", "0g"], "payload must be hex"),
        (
            ["--device", "myo", "--char", "d5060105", "0011"],
            "myo: an EMG notification is 16 bytes",
        ),
        (["--device", "myo", "--char", "d5060401", "00" * 16], "carries no samples"),
        (["--device", "witmotion", "--char", "1234abcd", "55"], "unknown characteristic"),
    ],
)
def test_decode_errors_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["decode", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and captured.err.startswith("nkt-motion: error:")


def test_unknown_device_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["decode", "--device", "fitbit", "--char", "x", "00"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
