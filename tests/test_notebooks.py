"""Execute the notebooks in ``notebooks/`` from top to bottom (nbclient).

The kernel must be *this* interpreter (the venv with nkt-motion installed), not
whatever ``python3`` kernel a user's Jupyter data folder happens to hold. So the
test writes a kernel spec whose argv starts with ``sys.executable`` into a
temporary folder, puts that folder first on ``JUPYTER_PATH`` (searched before the
user and system folders) and asks for it by its own name. This needs only
``ipykernel`` importable here; nothing is installed into the user's Jupyter.

Notebooks are stored without outputs; the test checks that too.
"""

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KERNEL = "nkt-motion-test"
# What each notebook must print: the conclusion it is about, not only "it ran".
EXPECTED = {
    "cohort.ipynb": [
        "group ratio (compensating / control):",
        "design value inside the interval: True",
        "pre->post change, compensating:",
        "pre->post change, control:",
        "subject-grouped CV: balanced accuracy",
        "trial-level split inflates",
        "TRAINED ON SIMULATED DATA",
    ],
    "quickstart.ipynb": ["-> resolved", "GMED:ADL measured"],
    "real-data.ipynb": ["label: median split", "TFL minus GMED", "20 features, 30 participants"],
}


@pytest.fixture
def kernel_name(tmp_path, monkeypatch):
    spec = tmp_path / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "nkt-motion (test)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    # opt in to jupyter_core's platformdirs layout: where old-style Jupyter folders exist,
    # jupyter_core otherwise warns (DeprecationWarning, an error under our filterwarnings)
    # that its default will change; the opt-in avoids the warning instead of hiding it
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    return KERNEL


def _text(nb):
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", ""))
            out.extend(str(v) for k, v in o.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(out)


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_stored_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs(name, kernel_name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=120,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    text = _text(nb)
    for expected in EXPECTED[name]:
        assert expected in text, f"{name}: {expected!r} not in the outputs"
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{name}: no figure drawn"
