# Two commands do all the set-up on a fresh machine:
#   make run    install what the app needs (first time only) and start it on http://localhost:8501
#   make test   install what the tests need (first time only, Chromium too) and run the test suite
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install browser benchmarks

install: $(STAMP)

$(STAMP): requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	@echo "Installing Python packages (the first time, llama-cpp-python compiles for about 6 minutes)..."
	$(PY) -m pip install -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

browser:
	@[ -x /usr/bin/chromium ] || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium fonts-noto-cjk; }

run: install
	$(VENV)/bin/streamlit run streamlit_app.py

test: install browser
	$(PY) -m pytest

benchmarks: install
	for f in benchmarks/*.py; do $(PY) $$f || exit 1; done
