# The two commands a new machine needs are `make demo` and `make test`; both install what is
# missing first (scripts/bootstrap) and are quick when it is already there.
.PHONY: demo demo-cli screenshots test bench lint bootstrap

bootstrap:
	@scripts/bootstrap

# The kiosk on a fresh demo branch: generated sample receipts as its camera, slips printed as
# PNG files, SQLite. With no display it walks the journey by itself on a virtual one.
demo: bootstrap
	@.venv/bin/kiosk demo --folder var/demo

# A member's life through the `kiosk` command line, each step printed.
demo-cli: bootstrap
	@scripts/demo-core

screenshots: bootstrap
	QT_QPA_PLATFORM=offscreen .venv/bin/kiosk demo --headless --screenshots var/screens

test: bootstrap
	.venv/bin/ruff check .
	.venv/bin/pytest -q

bench: bootstrap
	.venv/bin/python bench/run_all.py

# Every console page on 1,000,000 members and 20,000,000 events on PostgreSQL; the first run
# builds the dataset (most of an hour, about 40 GB under var/bench/), later runs reuse it.
bench-console: bootstrap
	.venv/bin/python bench/console.py

lint: bootstrap
	.venv/bin/ruff check .
