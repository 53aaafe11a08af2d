# Two commands: `make demo` renders the reports from built-in sample data, `make test` runs the
# tests. Both set everything up first, on a machine that has only python3. `make lint` (ruff
# check and ruff format --check) and `make typecheck` (mypy) are the quality gates CI runs first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.omnikit-installed
KERNEL := omnikit
PYTEST_ARGS ?=

.PHONY: setup demo test lint typecheck lab bench system browser clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab,dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (omnikit)"
	touch $@

# What the tests need from Debian: headless Chromium (browser tests) and a Java 17 runtime
# (local Spark). Installed with apt-get when missing (needs root or sudo).
system:
	@missing=""; \
	  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing="$$missing chromium"; \
	  command -v java >/dev/null 2>&1 || missing="$$missing openjdk-17-jre-headless"; \
	  if [ -n "$$missing" ]; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    echo "installing$$missing (apt-get)"; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  fi

browser: system

demo: setup
	$(BIN)/omnikit demo

test: setup system
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff's settings are in pyproject.toml ([tool.ruff]); notebooks are checked, never reformatted.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy's settings are in pyproject.toml ([tool.mypy]): the package, typed as it ships (py.typed).
typecheck: setup
	$(BIN)/mypy

# JupyterLab on the notebooks, as root too (containers), with a fresh token; prints the URL to
# open. LAB_IP=0.0.0.0 to reach it from outside a container, LAB_PORT=8899 if 8888 is taken.
lab: setup
	@ip=$${LAB_IP:-127.0.0.1}; port=$${LAB_PORT:-8888}; \
	token=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(24))'); \
	root=$$( [ "$$(id -u)" = 0 ] && echo --allow-root ); \
	echo; echo "    JupyterLab: open http://$$ip:$$port/lab?token=$$token"; \
	echo "    (Ctrl-C twice to stop it)"; echo; \
	JUPYTER_TOKEN=$$token exec $(BIN)/jupyter lab $$root --no-browser \
	  --ServerApp.ip=$$ip --ServerApp.port=$$port --ServerApp.port_retries=0 \
	  --ServerApp.log_level=WARN notebooks/

bench: setup
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) reports .pytest_cache .hypothesis build *.egg-info
