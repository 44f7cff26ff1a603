# kvslab: `make` builds, `make run` starts the daemon, `make test` installs what is missing and runs every test.
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json

.PHONY: all build run test deps system-deps clean bench check-arch

all: build

$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: $(NODE_MODULES_STAMP)

# Debian's Redis is the differential oracle; redis-cli and redis-py (python3-redis) are real clients in the tests,
# numpy (python3-numpy) the tensor example's arrays, chromium the browser that loads the status page, openssl
# makes the TLS tests' certificates and systemd-analyze checks the unit file.
system-deps:
	@if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null || ! command -v redis-benchmark >/dev/null \
		|| ! /usr/bin/python3 -c 'import redis, numpy' 2>/dev/null || ! command -v chromium >/dev/null \
		|| ! command -v openssl >/dev/null || ! command -v systemd-analyze >/dev/null; then \
		echo "installing redis-server, redis-tools, python3-redis, python3-numpy, chromium, openssl, systemd (Debian)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server redis-tools python3-redis python3-numpy chromium openssl systemd >/dev/null; \
	fi

build: deps
	npx tsc -p tsconfig.json

run: build
	bin/kvslab-server conf/kvslab.conf

# Architecture (.dependency-cruiser.cjs): no import circle in src/, type-only imports included, and the layering rules.
# depcruise exits with its error count, which the shell takes mod 256: a run that printed an error fails whatever that was.
check-arch: deps
	@out=$$(npx depcruise src --config .dependency-cruiser.cjs --output-type err); status=$$?; printf '%s\n' "$$out"; \
		[ $$status -eq 0 ] && ! grep -q '^ *error ' <<<"$$out"

# Tests are type-checked too (test/tsconfig.json). The JSON report feeds the plain "N passed, N failed" line CI reads.
test: system-deps build check-arch
	npx tsc -p test/tsconfig.json
	@mkdir -p test/.results
	npx vitest run --config test/vitest.config.ts --reporter=default --reporter=json --outputFile.json=test/.results/vitest.json; \
		status=$$?; node test/helpers/summary.mjs test/.results/vitest.json || status=1; exit $$status

# memcached is a column of the memory suite; iperf3 measures the loopback ceiling of the tensor suite. On a host running systemd Debian's package also starts (and enables)
# a memcached service on 127.0.0.1:11211; the bench starts its own on a free port, so that one is only idle.
.PHONY: bench-deps
bench-deps:
	@if ! command -v memcached >/dev/null || ! command -v iperf3 >/dev/null; then \
		echo "installing memcached and iperf3 (Debian)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq memcached iperf3 >/dev/null; \
	fi

bench: system-deps bench-deps build
	node bench/run.mjs

clean:
	rm -rf dist
