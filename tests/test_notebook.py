"""The tutorial notebook runs top to bottom (quick sizes), and matches its source script."""

import os
import sys

import nbformat
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
NOTEBOOKS = os.path.join(HERE, "..", "notebooks")
sys.path.insert(0, NOTEBOOKS)


def test_notebook_is_built_from_make_tutorial_and_has_no_outputs():
    import make_tutorial

    saved = nbformat.read(os.path.join(NOTEBOOKS, "tutorial.ipynb"), as_version=4)
    built = make_tutorial.build()
    assert [c.source for c in saved.cells] == [c.source for c in built.cells], (
        "notebooks/tutorial.ipynb is stale: run `python notebooks/make_tutorial.py`"
    )
    assert all(not c.get("outputs") for c in saved.cells if c.cell_type == "code")


@pytest.mark.slow
def test_notebook_executes(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("KERAS_VIDGAN_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("KERAS_VIDGAN_NOTEBOOK_OUT", str(tmp_path))
    root = os.path.dirname(HERE)
    monkeypatch.setenv("PYTHONPATH", root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    nb = nbformat.read(os.path.join(NOTEBOOKS, "tutorial.ipynb"), as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "defect 1:" in outputs and "image-to-video starts at the image: True" in outputs
    assert (tmp_path / "videos.gif").exists() and (tmp_path / "export" / "1").is_dir()
