# Two commands do all the set-up on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
PORT   ?= 5000
# Two pytest-xdist workers: a 2-core machine's worth. PYTEST_WORKERS=0 runs in one process (one test file, a debugger).
PYTEST_WORKERS ?= 2
VENDOR := webapp/static/vendor

.PHONY: setup run test test-postgres system-deps translations messages lint clean

setup: $(VENV)/.installed $(VENDOR)/htmx.min.js translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR)/htmx.min.js: node_modules/.installed
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $@

# The .po files are the source of truth (README, "Translations"). `make messages` takes every msgid from the code and
# templates into each .po (new ones empty, changed ones fuzzy, unused ones dropped); `make translations` compiles
# the .mo files the app reads (not in git: `make setup` builds them).
BABEL := $(VENV)/bin/pybabel
BABEL_KEYWORDS := -k _l -k lazy_gettext -k N_
POT := webapp/translations/messages.pot

translations: $(VENV)/.installed
	$(BABEL) compile -d webapp/translations >/dev/null

messages: $(VENV)/.installed
	$(BABEL) --quiet extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output -o $(POT) .
	$(BABEL) --quiet update -i $(POT) -d webapp/translations --ignore-obsolete --ignore-pot-creation-date

run: setup
	mkdir -p instance
	LVTONG_ENV=$${LVTONG_ENV:-demo} $(FLASK) db upgrade
	LVTONG_ENV=$${LVTONG_ENV:-demo} $(FLASK) demo
	@echo "Serving on http://127.0.0.1:$(PORT)  (Ctrl-C to stop)"
	LVTONG_ENV=$${LVTONG_ENV:-demo} $(VENV)/bin/gunicorn --config gunicorn.conf.py --workers 2 --threads 4 --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

system-deps:
	@bash scripts/system-deps.sh

test: setup system-deps
	$(VENV)/bin/ruff check --quiet webapp tests bench
	$(VENV)/bin/bandit --quiet --recursive webapp --severity-level medium 2>/dev/null  # findings on stdout; stderr only has its nosec chatter
	LVTONG_ENV=test $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules $(VENDOR) instance .pytest_cache .hypothesis
