import base64
import io
import re
from html.parser import HTMLParser

import matplotlib.image as mpimg
import numpy as np
import pytest

from nkt_motion.assess import DISCLAIMER, assess_session
from nkt_motion.protocols import load_protocol
from nkt_motion.report import build_report
from nkt_motion.simulate import gmed_adl_hip_flexion, simulate

PROTOCOL = "hip_flexion_gmed_adl"


@pytest.fixture(scope="module")
def assessed():
    sc = gmed_adl_hip_flexion(n_trials=3).replace(
        trial_s=1.5, gap_s=0.4, rest_s=2.0, ref_s=1.5, correction_s=0.5, fs_imu=50.0
    )
    session = simulate(sc).session
    return session, assess_session(session, PROTOCOL, n_boot=300)


@pytest.fixture(scope="module")
def built(assessed, tmp_path_factory):
    session, assessment = assessed
    out = tmp_path_factory.mktemp("report")
    paths = build_report(
        session,
        assessment,
        protocol=load_protocol(PROTOCOL),
        out_html=out / "r.html",
        out_pdf=out / "r.pdf",
    )
    return paths, paths.html.read_text(encoding="utf-8")


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.imgs, self.links, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "img":
            self.imgs.append(a["src"])
        for key in ("src", "href"):
            if key in a and tag != "img":
                self.links.append(a[key])

    def handle_data(self, data):
        self.text.append(data)


def _parse(html):
    p = _Collect()
    p.feed(html)
    return p


def test_html_has_sections_verdict_and_disclaimer(built, assessed):
    _, html = built
    p = _parse(html)
    for sid in ("header", "result", "protocol", "quality", "figures", "caveats", "methods",
                "disclaimer"):  # fmt: skip
        assert sid in p.ids
    text = " ".join(p.text)
    assert assessed[1].tests[0].verdict == "resolved"
    assert "resolved" in text and "gluteus medius : adductor longus" in text
    assert DISCLAIMER in text and "not a diagnosis" in text
    assert "sub-01 (pseudonymous id)" in text
    # ISEK-style methods: filters with cut-offs and order, normalisation, onset method
    assert "band-pass 20-450 Hz, order 4" in text and "low-pass 6 Hz" in text
    assert "CEDE" in text and "Hodges & Bui" in text and "nkt-motion 0.1.0" in text
    # placement from the protocol: SENIAM for GMED, a convention for ADL
    assert "SENIAM" in text and "convention" in text


def test_html_is_self_contained(built):
    _, html = built
    p = _parse(html)
    assert "http" not in html
    assert 'src="/' not in html and "<link" not in html and "<script" not in html
    assert "@import" not in html and "url(" not in html
    assert p.links == []
    assert all(src.startswith("data:image/png;base64,") for src in p.imgs)


def test_embedded_pngs_are_real_images(built):
    _, html = built
    imgs = _parse(html).imgs
    assert len(imgs) == 3  # EMG, the GMED:ADL pair, IMU signs
    for src in imgs:
        raw = base64.b64decode(src.split(",", 1)[1])
        img = mpimg.imread(io.BytesIO(raw), format="png")
        h, w = img.shape[:2]
        assert 300 <= w <= 2000 and 200 <= h <= 1500
        assert float(np.var(img[..., :3])) > 1e-3  # not blank


def test_pdf_pages(built):
    paths, _ = built
    data = paths.pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = re.findall(rb"/Type\s*/Page(?![s\w])", data)
    # two text pages, then EMG, pair, IMU and the quality table
    assert len(pages) == 6


def test_text_is_escaped(assessed, tmp_path):
    session, assessment = assessed
    s = session.replace(meta={**session.meta, "client_note": "<script>x</script> & co"})
    paths = build_report(s, assessment, out_html=tmp_path / "e.html", show_meta=("client_note",))
    html = paths.html.read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in html
    hidden = build_report(s, assessment, out_html=tmp_path / "a" / "b" / "h.html")
    assert hidden.pdf is None  # HTML only; missing folders are created
    assert "client_note" not in hidden.html.read_text()  # identifying meta is off by default


def test_one_side_placement_table_has_no_side_column(built):
    _, html = built
    protocol = html[html.index('<section id="protocol">') : html.index('<section id="quality">')]
    table = protocol[protocol.index("<table><thead>") :]
    head = re.findall(r"<th>([^<]*)</th>", table)
    assert head == ["muscle", "channel", "standard", "placement", "orientation", "reference",
                    "source"]  # fmt: skip
    channels = [re.findall(r"<td>([^<]*)</td>", r)[:2]
                for r in re.findall(r"<tr>(.*?)</tr>", table)[1:]]  # fmt: skip
    assert channels == [["gluteus medius", "EMG GMED L"], ["adductor longus", "EMG ADL L"]]
