# The two commands a new machine needs are `make demo` and `make test`; both install what is
# missing first (scripts/bootstrap) and are quick when it is already there.
.PHONY: demo test bench lint bootstrap

bootstrap:
	@scripts/bootstrap

demo: bootstrap
	@scripts/demo-core

test: bootstrap
	.venv/bin/ruff check .
	.venv/bin/pytest -q

bench: bootstrap
	.venv/bin/python bench/run_all.py

lint: bootstrap
	.venv/bin/ruff check .
