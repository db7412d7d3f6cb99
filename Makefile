# The two commands of the README, plus helpers for developers.
.PHONY: demo test lint docs

demo:  ## run the whole loop on one machine (embedded broker, SQLite)
	scripts/demo $(ARGS)

test:  ## install what the tests need, lint, type-check and run every test
	scripts/test $(ARGS)

lint:
	uv run ruff check . && uv run mypy

docs:  ## regenerate docs/wire-protocol.md from the wire contract
	uv run vmi wire-doc > docs/wire-protocol.md
