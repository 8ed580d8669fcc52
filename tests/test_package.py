"""The package's shape: imports only point down, the CLI starts without TensorFlow,
the public API resolves, and the declared dependencies are the tested ones."""

import ast
import configparser
import json
import os
import subprocess
import sys

import pytest

import keras_vidgan

PACKAGE = os.path.dirname(keras_vidgan.__file__)
ROOT = os.path.dirname(PACKAGE)


def _import_graph():
    """module -> set of keras_vidgan modules it imports (anywhere in the file)."""
    names = {f[:-3] for f in os.listdir(PACKAGE) if f.endswith(".py") and f != "__init__.py"}
    graph = {}
    for name in names:
        with open(os.path.join(PACKAGE, f"{name}.py")) as f:
            tree = ast.parse(f.read())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[1] for a in node.names
                          if a.name.startswith("keras_vidgan.")}
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "keras_vidgan":
                    found |= {a.name for a in node.names if a.name in names}
                elif node.module.startswith("keras_vidgan."):
                    found.add(node.module.split(".")[1])
        graph[name] = found - {name}
    return graph


def _cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycle():
    graph = _import_graph()
    assert {"cli", "runs", "scoring", "evaluate", "data"} <= set(graph)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))
    # The floors the cycle ran through: scoring above runs, runs above evaluate.
    assert "scoring" not in graph["runs"] and "runs" in graph["scoring"]
    assert not graph["evaluate"] & {"runs", "cli", "scoring"}


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_help_of_every_command_imports_no_tensorflow():
    """`keras-vidgan --help` and every `SUB --help` in a fresh process: no TensorFlow,
    no Keras loaded (checked in `sys.modules`), and each answers."""
    script = r"""
import json, sys, time
from keras_vidgan import cli
parser = cli.build_parser()
commands = list(parser._subparsers._group_actions[0].choices)
seconds = {}
for argv in [["--help"]] + [[c, "--help"] for c in commands]:
    started = time.perf_counter()
    try:
        cli.main(argv)
    except SystemExit as stop:
        assert stop.code == 0, argv
    seconds[" ".join(argv)] = time.perf_counter() - started
cli.main(["config"])
loaded = sorted(m for m in ("tensorflow", "keras", "numpy", "cv2") if m in sys.modules)
print(json.dumps({"commands": commands, "loaded": loaded, "seconds": seconds}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"train", "generate", "export", "evaluate", "summary", "config"} <= set(
        report["commands"])
    assert report["loaded"] == []


def test_public_api_resolves_lazily():
    for name in keras_vidgan.__all__:
        assert getattr(keras_vidgan, name) is not None, name
    assert keras_vidgan.video_io.grid is not None  # submodules too
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        keras_vidgan.nothing  # noqa: B018


def test_declared_dependencies_cover_the_installed_versions():
    """setup.cfg's ranges hold the versions this suite runs on (declared as tested)."""
    from importlib.metadata import version

    from packaging.requirements import Requirement

    parser = configparser.ConfigParser()
    parser.read(os.path.join(ROOT, "setup.cfg"))
    required = [Requirement(line) for line in
                parser["options"]["install_requires"].strip().splitlines()]
    for req in required:
        assert req.specifier.contains(version(req.name), prereleases=True), (req, version(req.name))
    pinned = [str(r) for r in required if "==" in str(r)]
    assert not pinned, f"exact pins keep the package from sitting beside another TF: {pinned}"
    assert "tensorflow-serving-api" not in {r.name for r in required}
    serving = parser["options.extras_require"]["serving"].strip().splitlines()
    assert any(line.startswith("tensorflow-serving-api") for line in serving)
    python = f"Programming Language :: Python :: {sys.version_info[0]}.{sys.version_info[1]}"
    assert python in parser["metadata"]["classifiers"]
