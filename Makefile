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

.PHONY: help install lab test unit notebooks exercises check-exercises execute-solutions train benchmark clean

help:
	@echo "make lab            install (once) and start JupyterLab on notebooks/  (LAB_ARGS=--no-browser ...)"
	@echo "make test           install (once), unit tests, nbval over notebooks/ and solutions/"
	@echo "make train ALG=qmix MAP=3m [PRESET=fast] [TRAIN_ARGS='--t-max 200000']"
	@echo "make benchmark      simulator throughput and map difficulty (benchmarks/env_throughput.py, difficulty.py)"
	@echo "make exercises      regenerate notebooks/ (student versions) from solutions/"
	@echo "make execute-solutions  re-run solutions/ at the default budget, store the outputs, record the times in README.md"

# The virtual environment is (re)built only when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

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
test: check-exercises
	COURSE_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest tests notebooks solutions \
		--nbval-lax --nbval-current-env -p no:cacheprovider $(PYTEST_ARGS)

unit: install
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

notebooks: install
	COURSE_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest notebooks solutions --nbval-lax --nbval-current-env $(PYTEST_ARGS)

execute-solutions: install
	OMP_NUM_THREADS=1 $(BIN)/python -m course_lib.tools.record_times
	$(BIN)/python -m course_lib.tools.make_exercises

train: install
	$(BIN)/python -m course_lib.train --alg $(ALG) --map $(MAP) --preset $(PRESET) $(TRAIN_ARGS)

benchmark: install
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/env_throughput.py
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/difficulty.py

clean:
	rm -rf runs .pytest_cache
