# marl-course: two commands do all set-up on a fresh machine.
#   make lab    install (first time only), then open the course in JupyterLab
#   make test   install (first time only), then run unit tests and every notebook (nbval)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.course-installed
LAB_ARGS ?=
PYTEST_ARGS ?=
ALG ?= qmix
MAP ?= 3m
PRESET ?= fast
TRAIN_ARGS ?=

.PHONY: help install lab test unit notebooks exercises check-exercises execute-solutions train benchmark benchmark-cuda suite slides slides-lint clean

help:
	@echo "make lab            install (once) and start JupyterLab on notebooks/  (LAB_ARGS=--no-browser ...)"
	@echo "make test           install (once), unit tests, nbval over notebooks/ and solutions/"
	@echo "make train ALG=qmix MAP=3m [PRESET=fast] [TRAIN_ARGS='--t-max 200000']"
	@echo "make benchmark      simulator throughput and map difficulty (benchmarks/env_throughput.py, difficulty.py)"
	@echo "make benchmark-cuda the GPU rows: simulator at 1k-64k games, training per method, GPU<->CPU copy audit (benchmarks/cuda.py)"
	@echo "make suite [SUITE_ARGS='--methods qmix --maps 3m --seeds 1 --t-max 20000']  the methods x maps x seeds benchmark (resumable; assets/benchmark/)"
	@echo "make exercises      regenerate notebooks/ (student versions) from solutions/"
	@echo "make slides         reveal.js decks of every notebook in build/slides/ (offline; open index.html)"
	@echo "make execute-solutions  re-run solutions/ at the default budget, store the outputs, record the times in README.md"

# The virtual environment is (re)built only when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	@touch $(STAMP)

# Web assets of the slide decks (reveal.js, MathJax, Font Awesome; versions pinned in the lock file), installed
# from the npm registry so that `make slides` works offline later. Skipped with a note when npm is missing.
SLIDE_ASSETS := build/vendor/.installed
SLIDE_LOCK := course_lib/tools/slides_assets/package-lock.json
$(SLIDE_ASSETS): course_lib/tools/slides_assets/package.json $(SLIDE_LOCK)
	@if command -v npm >/dev/null 2>&1; then \
		mkdir -p build/vendor && cp course_lib/tools/slides_assets/package.json $(SLIDE_LOCK) build/vendor/ && \
		if (cd build/vendor && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error); then touch $@; \
		else echo "warning: npm ci failed: slide assets not installed (make slides needs them)"; fi; \
	else echo "note: npm not found: slide assets not installed (make slides needs them; apt-get install npm)"; fi

install: $(STAMP) $(SLIDE_ASSETS)

# Ray (optional for the course, requirements-cluster.txt) so that `make test` also runs the suite's Ray test.
CLUSTER_STAMP := $(VENV)/.cluster-installed
$(CLUSTER_STAMP): requirements-cluster.txt $(STAMP)
	$(BIN)/python -m pip install -r requirements-cluster.txt
	@touch $(CLUSTER_STAMP)

# Root at the repository (solutions/ stays one click away); opens on notebooks/00_welcome.ipynb.
# As root (containers, cloud machines) Jupyter needs --allow-root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)
lab: install
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb $(ROOT_FLAG) $(LAB_ARGS)

check-exercises: install
	$(BIN)/python -m course_lib.tools.make_exercises --check

exercises: install
	$(BIN)/python -m course_lib.tools.make_exercises

# Unit tests and notebooks in one pytest run: one summary line, then the per-notebook timing table.
test: check-exercises slides-lint $(CLUSTER_STAMP)
	COURSE_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest tests notebooks solutions \
		--nbval-lax --nbval-current-env -p no:cacheprovider $(PYTEST_ARGS)

# Slide structure of the stored notebooks (title slide, no overflowing slide, no solution in a student deck).
# Every stored notebook carries slide metadata (`python -m course_lib.tools.slides annotate solutions/*.ipynb`, then `make exercises`).
slides-lint: install
	$(BIN)/python -m course_lib.tools.slides lint solutions/*.ipynb notebooks/*.ipynb

# One deck per notebook: build/slides/NN_name.slides.html (executed solutions) and
# NN_name.student.slides.html (exercises unsolved), assets in build/slides/vendor/, index.html.
slides: install
	$(BIN)/python -m course_lib.tools.slides export --out build/slides

unit: install
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

notebooks: install
	COURSE_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest notebooks solutions --nbval-lax --nbval-current-env $(PYTEST_ARGS)

execute-solutions: install
	$(BIN)/python -m course_lib.tools.record_times
	$(BIN)/python -m course_lib.tools.make_exercises

SUITE_ARGS ?=
suite: install
	$(BIN)/python benchmarks/suite.py $(SUITE_ARGS)

train: install
	$(BIN)/python -m course_lib.train --alg $(ALG) --map $(MAP) --preset $(PRESET) $(TRAIN_ARGS)

benchmark: install
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/env_throughput.py
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/difficulty.py

# needs a CUDA GPU (exits with a clear message otherwise); also runs the CUDA-path tests
benchmark-cuda: install
	$(BIN)/python -m pytest -q tests/test_cuda_path.py -p no:cacheprovider
	$(BIN)/python benchmarks/cuda.py

clean:
	rm -rf runs .pytest_cache build/slides
