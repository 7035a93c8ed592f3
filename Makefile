# Two commands on a fresh machine:  make test   and   make reproduce
# Each creates .venv, installs this package from pyproject.toml, then runs.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU TensorFlow for this machine and CI; on a GPU box use EXTRAS=gpu,dev,notebooks,site.
EXTRAS ?= cpu,dev,notebooks,site
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
export TF_CPP_MIN_LOG_LEVEL ?= 2
export MPLBACKEND ?= Agg
# Notebooks executed at a time by `make reproduce`: a small RNN keeps about one core busy.
NOTEBOOK_JOBS ?= 2

# The figures the README shows (docs/figures/), refreshed by every `make reproduce`.
README_FIGURES := unrolled_rnn bptt rnn_types 01_truncation_memory 03_gradient_norms \
	03_adding_comparison 04_gates_along_recall 04_comparison 05_your_digits 06_reading \
	07_returns_forecast_vs_actual 08_attention_own_translation

.PHONY: setup test test-fast lint reproduce figures notebooks site bench wheel clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	$(PY) -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $@

test: setup
	$(PY) -m ruff check rnn_tf tests docs $(wildcard benchmarks/*.py)
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow and not notebook"

lint: setup
	$(PY) -m ruff check .

# The main job: every figure, then every notebook headless on its default data (real where it
# can be had), the results (build/results.md, with each notebook's time and peak memory), the
# README's results block and figures (docs/figures/) refreshed from this run, the website.
reproduce: setup
	$(PY) -m rnn_tf figures --out figures
	$(PY) -m rnn_tf notebooks --out build --figures figures --jobs $(NOTEBOOK_JOBS)
	$(PY) docs/readme_results.py build/results.md README.md
	$(PY) docs/build_site.py --executed build --out build/site
	for name in $(README_FIGURES); do \
	  cp "figures/$$name.png" "docs/figures/$$name.png.tmp" && \
	  mv "docs/figures/$$name.png.tmp" "docs/figures/$$name.png" || exit 1; \
	done

# The course website in build/site: the executed notebooks of `make reproduce` when present,
# otherwise each notebook executed here in SMOKE mode.
site: setup
	$(PY) docs/build_site.py --executed build --out build/site

figures: setup
	$(PY) -m rnn_tf figures --out figures

# Benchmarks are a source-checkout tool (the package `benchmarks/`, not installed with rnn_tf).
bench: setup
	$(PY) -m benchmarks --out benchmarks/results

wheel: setup
	$(PY) -m build --wheel --outdir dist .

clean:
	rm -rf $(VENV) build dist figures .pytest_cache *.egg-info
