"""The tutorial notebook: stored executed (GitHub shows its results), runs top to bottom."""

import os
import sys

import nbformat
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
NOTEBOOKS = os.path.join(HERE, "..", "notebooks")
sys.path.insert(0, NOTEBOOKS)


def _outputs(nb):
    """(mime types of all display outputs, all text and HTML of the outputs)."""
    kinds, text = set(), []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            kinds.update(out.get("data", {}))
            text.append(out.get("text", ""))
            text.append(str(out.get("data", {}).get("text/html", "")))
    return kinds, "".join(text)


def _assert_shows_pictures(nb):
    kinds, text = _outputs(nb)
    assert "image/png" in kinds, "no inline plot or sample grid (matplotlib inline)"
    assert "image/gif" in kinds, "no inline GIF of the videos"
    assert "<video" in text and "data:video/mp4;base64" in text, "no HTML5 video"
    return text


def test_stored_notebook_is_built_from_make_tutorial_and_shows_its_results():
    import make_tutorial

    saved = nbformat.read(os.path.join(NOTEBOOKS, "tutorial.ipynb"), as_version=4)
    built = make_tutorial.build()
    assert [c.source for c in saved.cells] == [c.source for c in built.cells], (
        "notebooks/tutorial.ipynb is stale: run `python notebooks/make_tutorial.py --execute`"
    )
    text = _assert_shows_pictures(saved)
    assert "full run" in text, "the stored outputs must come from a full (not quick) run"
    assert "served, one seed and two classes: (2, 32, 32, 3) differ: True" in text
    assert not any(o.get("output_type") == "error" for c in saved.cells for o in c.get("outputs", []))


@pytest.mark.slow
def test_notebook_executes_and_shows_plots_grids_and_videos(tmp_path, monkeypatch):
    import make_tutorial

    monkeypatch.setenv("KERAS_VIDGAN_NOTEBOOK_OUT", str(tmp_path))
    root = os.path.dirname(HERE)
    monkeypatch.setenv("PYTHONPATH", root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    nb = make_tutorial.execute(make_tutorial.build(), quick=True, timeout=900)
    text = _assert_shows_pictures(nb)
    assert "quick run" in text
    assert "defect 1:" in text and "image-to-video starts at the image: True" in text
    assert "differ: True" in text and "class_id must be in [0, 3)" in text
