# The README's two commands: `make demo` and `make test`. Both create .venv when missing.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
# uv finds pyenv's 3.12 only by path: the pyenv shims refuse versions not selected globally.
PY312 := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12 2>/dev/null))
ifneq ($(PY312),)
export UV_PYTHON := $(PY312)
endif
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
PYTEST_ARGS ?=

.PHONY: demo test sync bench quality train clean

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools && .tools/bin/pip install -q uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

sync: .venv/.synced

demo: .venv/.synced
	.venv/bin/bantin demo

# Lint and types first (fail fast): ruff and mypy read their settings from pyproject.toml.
test: .venv/.synced
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/pytest $(PYTEST_ARGS)

bench: .venv/.synced
	$(UV) sync --frozen --group bench
	.venv/bin/python bench/extract.py
	.venv/bin/python bench/crawl.py
	.venv/bin/python bench/pages.py

# Extraction quality on the real corpus's test split (bench/quality.py --help for more).
quality: .venv/.synced
	.venv/bin/python bench/quality.py --split $(or $(SPLIT),test)

# The clause labeller, refitted on the corpus's train split (+ the seeds).
train: .venv/.synced
	.venv/bin/python -m bantin.extract.training

clean:
	rm -rf .venv .tools var
