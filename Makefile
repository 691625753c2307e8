# Event Manager. `make run` starts the service on the embedded SQLite default; `make test` runs
# every test (PostgreSQL ones too when TEST_DATABASE_URL is set; CI sets it).

CARGO ?= cargo
BIN := target/release/event-manager

.PHONY: run build test test-rust test-contract typescript-client lint fmt migrate openapi bench clean-data

## Build (release) and start on http://127.0.0.1:8080 with SQLite in ./data/.
run:
	$(CARGO) build --release --locked --bin event-manager
	$(BIN) serve

build:
	$(CARGO) build --release --locked --bin event-manager

## Every test: domain, adapter contract (SQLite; PostgreSQL with TEST_DATABASE_URL), HTTP end to
## end, then the docs page and the live stream in headless Chromium, webhooks and email against
## real peers on loopback, and schemathesis against the OpenAPI document.
test: test-rust test-contract

test-rust:
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --all-targets --locked --no-fail-fast; \
	else \
		$(CARGO) test --workspace --all-targets --locked --no-fail-fast; \
	fi
	$(CARGO) test --workspace --doc --locked

## Against the running debug binary: Chromium renders /docs offline, an EventSource in it receives a
## pushed change, and an invitation email's link answers on the RSVP page at phone width; calendar
## files are read by Python's icalendar and stored in a Radicale CalDAV server; webhooks reach a receiver that verifies them with the Standard Webhooks library and
## email an aiosmtpd server; schemathesis fuzzes every operation; the TypeScript client runs the
## seed's scenario; and the scaled-out shape (scripts/scale-test.sh) passes its checks.
test-contract:
	$(CARGO) build --locked --bin event-manager
	bash scripts/browser-docs-test.sh target/debug/event-manager
	bash scripts/browser-stream-test.sh target/debug/event-manager
	bash scripts/browser-rsvp-test.sh target/debug/event-manager
	bash scripts/delivery-test.sh target/debug/event-manager
	bash scripts/calendar-test.sh target/debug/event-manager
	bash scripts/schemathesis.sh target/debug/event-manager
	bash scripts/typescript-client-test.sh target/debug/event-manager
	bash scripts/scale-test.sh target/debug/event-manager

## The scaled-out shape alone: HAProxy, three processes, PgBouncer in transaction mode, PostgreSQL.
test-scale:
	$(CARGO) build --locked --bin event-manager
	bash scripts/scale-test.sh target/debug/event-manager

## The TypeScript client alone: generated types up to date, redocly lint, tsc, the seed example.
typescript-client:
	$(CARGO) build --locked --bin event-manager
	bash scripts/typescript-client-test.sh target/debug/event-manager

## Formatting, clippy, the file tree in docs/architecture.md, and docs and code that say what holds
## (no issue numbers or review rounds).
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	python3 scripts/architecture-tree.py --check
	bash scripts/compose-check.sh
	@if grep -rnE 'issues? #?[0-9]+|round [0-9]' docs crates --include=*.md --include=*.rs; then \
		echo "lint: docs/ and crates/ say what holds, not which issue or round did it" >&2; exit 1; fi

fmt:
	$(CARGO) fmt --all

## Apply migrations to DATABASE_URL and exit.
migrate:
	$(CARGO) run --release --locked --bin event-manager -- migrate

## Rewrite docs/openapi.json from the code, and the TypeScript client's types from it.
openapi:
	UPDATE_OPENAPI=1 $(CARGO) test -p app --test api --locked openapi_document_matches_the_committed_copy
	@if [ -d clients/typescript/node_modules ]; then \
		cd clients/typescript && npx --no-install openapi-typescript ../../docs/openapi.json \
			--output src/schema.d.ts; \
	else \
		echo "clients/typescript/src/schema.d.ts not regenerated: run \`npm ci\` in" \
			"clients/typescript (or scripts/typescript-client-test.sh), then make openapi again"; \
	fi

clean-data:
	rm -rf data

## Load test on generated PostgreSQL data beside pgbench's ceiling; report in bench/out/report.md.
bench:
	python3 bench/run.py
