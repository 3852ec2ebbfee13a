# The README's two commands, `make run` and `make test`, do all set-up.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | md5sum | cut -c1-12)

# Rasa 3.6 (the NLU service back end) needs Python 3.10 and old libraries: its own venv.
# (pyenv's shims answer "command not found" for versions not selected, hence the check that it runs)
RASA_PY ?= $(shell for p in $(HOME)/.pyenv/versions/3.10.*/bin/python $$(command -v python3.10); do \
  $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo $$p; break; }; done)
RASA_VENV := .venv-rasa
RASA := RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 $(RASA_VENV)/bin/rasa
RASA_STAMP := $(RASA_VENV)/.installed-rasa-3.6.21
RASA_MODELS := var/rasa/models
RASA_PORT ?= 5005

.PHONY: setup run test fuzz bench lint postgres-setup catalog-check redis-stop clean rasa-setup rasa-validate rasa-train rasa-serve browser-setup compose-setup

setup: $(STAMP)
	@$(PY) scripts/ensure_redis.py
	@$(PY) -m bot db upgrade

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  { echo "Python 3.11 is required (found $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || \
	  { echo "installing python3-venv"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q pip==26.3
	@$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

run: setup
	$(PY) -m bot run

test: setup rasa-setup browser-setup compose-setup postgres-setup
	$(PY) -m pytest

# The hostile-input properties with new random examples, three times as many as `make test`
# draws (which are the same every run); what fails is kept in .hypothesis/ and replayed first.
fuzz: setup
	HYPOTHESIS_PROFILE=explore FUZZ_SCALE=3 $(PY) -m pytest tests/test_hostile_input.py

bench: setup rasa-setup
	$(PY) -m bench.turns
	$(PY) -m bot.nlu bench
	$(PY) -m bench.http
	$(PY) -m bench.notify
	@test -f $(RASA_MODELS)/nlu.tar.gz || $(MAKE) rasa-train
	$(PY) -m bench.floor
	$(PY) -m bench.load

# The demo page's browser test drives Debian's Chromium (never a browser Playwright downloads);
# a Chinese font makes its screenshots readable.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-setup:
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver && fc-list :lang=zh 2>/dev/null | grep -q . || \
	  { echo "installing chromium, chromium-driver and fonts-wqy-microhei"; $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei; }

# The tests' PostgreSQL (the database matrix, the database-outage faults): the one at
# 127.0.0.1:5432, or DATABASE_URL_PG, or a cluster of the project's own started there.
postgres-setup: setup
	@$(PY) scripts/ensure_postgres.py

# tests/test_packaging.py validates docker/compose.yaml with a real Compose client: the docker
# plugin where there is one, else Debian's docker-compose (1.29, offline `config` needs no engine).
compose-setup:
	@docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || \
	  { echo "installing docker-compose"; $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose; }

rasa-setup: $(RASA_STAMP)

$(RASA_STAMP): constraints-rasa.txt
	@test -n "$(RASA_PY)" || { echo "Rasa 3.6 needs Python 3.10 and none was found: install it (e.g. 'pyenv install 3.10.13') or set RASA_PY=/path/to/python3.10"; exit 1; }
	@$(RASA_PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' || { echo "RASA_PY=$(RASA_PY) is not Python 3.10"; exit 1; }
	@test -x $(RASA_VENV)/bin/python || $(RASA_PY) -m venv $(RASA_VENV)
	@$(RASA_VENV)/bin/pip install -q pip==24.0
	@$(RASA_VENV)/bin/pip install -q -c constraints-rasa.txt rasa==3.6.21 jieba==0.42.1
	@touch $@

rasa-validate: setup rasa-setup
	@$(PY) -m bot.nlu domain --out var/rasa/domain.yml
	$(RASA) data validate --data nlu_data --config nlu_data/config.yml --domain var/rasa/domain.yml

rasa-train: setup rasa-setup
	@$(PY) -m bot.nlu domain --out var/rasa/domain.yml
	$(RASA) train nlu --nlu nlu_data --config nlu_data/config.yml --domain var/rasa/domain.yml --out $(RASA_MODELS) --fixed-model-name nlu

rasa-serve: rasa-train
	$(RASA) run --enable-api --model $(RASA_MODELS)/nlu.tar.gz --interface 127.0.0.1 --port $(RASA_PORT)

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

catalog-check: setup
	$(PY) -m bot catalog check

redis-stop:
	@test -f var/redis/redis.pid && kill $$(cat var/redis/redis.pid) || true

clean: redis-stop
	rm -rf $(VENV) $(RASA_VENV) var
