# Quick start: `make demo` and `make test` on a fresh clone; everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
export VTK_DEFAULT_OPENGL_WINDOW ?= vtkOSOpenGLRenderWindow
export QT_QPA_PLATFORM ?= offscreen

.PHONY: venv demo test bench lint clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first and pinned: the CPU wheel here; an open-ended torch would pull CUDA packages.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -r requirements.txt
	$(PIP) install -q --no-deps -e .
	touch $(STAMP)

demo: venv
	$(VENV)/bin/pscgan demo --out demo_out

test: venv
	$(PY) -m pytest -q -n 2 --dist loadfile Testing

lint: venv
	$(PY) -m ruff check .

bench: venv
	$(PY) -m evaluation bench
	$(PY) -m evaluation bench-e2e

clean:
	rm -rf $(VENV) demo_out Testing/artifacts
