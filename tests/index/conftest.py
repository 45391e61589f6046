import pytest

from nkt_motion import write_bids
from nkt_motion.assess import assess_session
from nkt_motion.simulate import gmed_adl_hip_flexion, healthy_hip_flexion, simulate

SHORT = {"trial_s": 1.5, "gap_s": 0.3, "rest_s": 1.5, "ref_s": 1.5, "correction_s": 0.5,
         "fs_imu": 50.0}  # fmt: skip


def short_session(preset, session_id, **kw):
    sc = preset(n_trials=3).replace(**SHORT, **kw)
    return simulate(sc).session.replace(session_id=session_id)


@pytest.fixture(scope="session")
def visits():
    """Three visits of client 01: (assessment, source, recorded_at) in time order."""
    first = assess_session(short_session(gmed_adl_hip_flexion, "01"), n_boot=200)
    second = assess_session(
        short_session(healthy_hip_flexion, "02", seed=3), n_boot=200, normalisation="task_peak"
    )
    third = assess_session(
        short_session(gmed_adl_hip_flexion, "03", seed=1), "single_leg_stance", n_boot=200
    )
    return [
        (first, "/clinic/sub-01/ses-01", "2024-03-01T10:00:00"),
        (second, "/clinic/sub-01/ses-02", "2024-04-05T09:30:00+02:00"),
        (third, "/clinic/sub-01/ses-03", None),
    ]


@pytest.fixture
def filled(tmp_path, visits):
    """An index file holding the three visits."""
    from nkt_motion.index import open_index

    path = tmp_path / "index.sqlite"
    with open_index(path) as idx:
        for i, (a, source, when) in enumerate(visits):
            idx.record(a, source=source, content_hash=f"hash{i}", origin="batch",
                       recorded_at=when)  # fmt: skip
    return path


@pytest.fixture(scope="module")
def bids(tmp_path_factory):
    """Client 01's visit on 2024-03-01 (a date in its metadata) as a BIDS dataset."""
    s = short_session(gmed_adl_hip_flexion, "01")
    s = s.replace(meta={**s.meta, "recorded_at": "2024-03-01T10:00:00"})
    root = tmp_path_factory.mktemp("bids") / "ds"
    write_bids(s, root)
    return root
