# Two commands set everything up on a fresh machine (see README.md):
#   make review   - create .venv, install, build the built-in decks, open the review app
#   make test     - the same set-up, then the whole test suite
#
# torch is installed first and pinned, so that pip never resolves `torch` to a
# multi-GB CUDA build on its own. Override for a chosen build, e.g.
#   make review TORCH="torch==2.13.0+cu126 --index-url https://download.pytorch.org/whl/cu126"

PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
EXTRAS ?= test,kernels
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: review test setup lint bench clean

setup: $(STAMP)

# Reinstall when pyproject.toml or the torch spec changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if [ "$$(cat $(STAMP) 2>/dev/null)" != "$(TORCH)" ]; then \
	  echo ">>> installing $(TORCH) first"; \
	  $(PY) -m pip install --disable-pip-version-check -q $(TORCH) || exit 1; \
	fi
	$(PY) -m pip install --disable-pip-version-check -q -e ".[$(EXTRAS)]"
	@echo "$(TORCH)" > $(STAMP)

review: setup
	$(VENV)/bin/atlas-quiz deck build
	$(VENV)/bin/atlas-quiz review

test: setup
	$(PY) -m pytest -n 2 --dist loadgroup

lint: setup
	$(VENV)/bin/ruff check atlas_quiz kernels tests
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m atlas_quiz.bench grading

clean:
	rm -rf $(VENV) build dist .pytest_cache
