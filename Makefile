# The two commands: `make demo` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint typecheck unit bench clean debian-packages

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Oculi needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/oculi demo

test: $(VENV)/.installed-dev lint typecheck unit

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# Debian packages some tests use: the system Chromium for the emulator's browser tests
# (Playwright cannot download browsers here), zbar for the second barcode reader, a CJK font for
# Chinese cards. Installed when missing; without them those tests skip and say why.
APT := apt-get install -y -q
debian-packages:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  $(APT) chromium || sudo $(APT) chromium || echo "no chromium: browser tests will skip"
	@ldconfig -p 2>/dev/null | grep -q libzbar || \
	  $(APT) libzbar0 || sudo $(APT) libzbar0 || echo "no libzbar0: zbar tests will skip"
	@fc-list 2>/dev/null | grep -qi wqy || \
	  $(APT) fonts-wqy-microhei || sudo $(APT) fonts-wqy-microhei || echo "no CJK font"

unit: $(VENV)/.installed-dev debian-packages
	$(BIN)/pytest

bench: $(VENV)/.installed
	$(BIN)/oculi bench

clean:
	rm -rf $(VENV) oculi-demo-out test-artifacts .pytest_cache .mypy_cache .ruff_cache
