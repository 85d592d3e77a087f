# Story Portal: thin wrappers. `make run` and `make test` are the two commands the README names.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT ?= swift
SWIFT_FORMAT ?= swift-format
WARNINGS := -Xswiftc -warnings-as-errors

.PHONY: deps build run test bench bench-redis bench-store bench-audit format lint

## Install the Debian packages (OpenSSL, SQLite, PostgreSQL, promtool, nginx, wrk...) when missing.
deps:
	./scripts/deps.sh

## Release build of the `portal` binary, warnings as errors.
build:
	$(SWIFT) build -c release $(WARNINGS)

## Build and run the gateway and the data layer on the environment's settings (see README.md).
run: deps build
	./.build/release/portal serve

## Build everything, tests included, with warnings as errors, then run every test
## (PostgreSQL's Debian cluster is started first: scripts/postgres-setup.sh). The heavy process tests
## (2,000-connection attacks, testssl, 256 MiB streams) run after the rest, alone: beside them, unrelated
## tests starved for a minute and their own timeouts fired.
test: deps
	./scripts/postgres-setup.sh
	$(SWIFT) build --build-tests $(WARNINGS)
	$(SWIFT) test --skip HeavyProcessTests
	$(SWIFT) test --filter HeavyProcessTests

## Story Portal against a plain nginx reverse proxy, side by side (bench/run.sh).
bench: deps build
	./bench/run.sh

## The per-IP limiter in memory against Redis, through the gateway (bench/redis-limiter.sh).
bench-redis: deps build
	./bench/redis-limiter.sh

## Event ingest through the data layer: SQLite against PostgreSQL (bench/store-ingest.sh).
bench-store: deps build
	./bench/store-ingest.sh

## The audit file under load: records/s and bytes/record, file alone and with the store sink (bench/audit-file.sh).
bench-audit: deps build
	./bench/audit-file.sh

## Format the sources in place with the toolchain's swift-format and .swift-format.
format:
	$(SWIFT_FORMAT) format -i -r Sources Tests

## Check formatting without changing anything.
lint:
	$(SWIFT_FORMAT) lint --strict -r Sources Tests
