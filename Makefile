# Two entry points (see README): `make run` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-stamp
CORES ?= all

.PHONY: run test lint format bench clean-results

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/snakemake --cores $(CORES)

test: $(STAMP)
	$(VENV)/bin/pytest -ra

lint: $(STAMP)
	$(VENV)/bin/ruff check src workflow/scripts tests bench experiments
	$(VENV)/bin/ruff format --check src workflow/scripts tests bench experiments
	$(VENV)/bin/snakefmt --check Snakefile workflow/rules
	$(VENV)/bin/snakemake --lint

format: $(STAMP)
	$(VENV)/bin/ruff format src workflow/scripts tests bench experiments
	$(VENV)/bin/snakefmt Snakefile workflow/rules

# the benchmarks that need no finished run (the others take --workdir/--directory DIR)
bench: $(STAMP)
	$(VENV)/bin/python bench/attack_throughput.py
	$(VENV)/bin/python bench/asr_throughput.py
	$(VENV)/bin/python bench/se_throughput.py
	$(VENV)/bin/python bench/metrics_throughput.py

clean-results:
	rm -rf results resources logs benchmarks .snakemake
