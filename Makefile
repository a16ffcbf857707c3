# StreamCluster: `make demo` runs the main job, `make test` runs every check.
SHELL := /bin/bash
export ONNXRUNTIME_NODE_INSTALL_CUDA := skip
export npm_config_update_notifier := false
export STREAMCLUSTER_CACHE ?= $(HOME)/.cache/streamcluster

.PHONY: all deps setup build check test lint format typecheck demo generate clean

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: node_modules/.installed

# Every script in scripts/setup/ runs in name order; each is idempotent and fast when its work
# is already done (system packages, the local embedding model, native builds).
setup: deps
	@for script in scripts/setup/*.sh; do [ -e "$$script" ] || continue; bash "$$script" || exit 1; done

build: setup
	npx tsc -p tsconfig.build.json
	npx tsx scripts/build-web.ts dist/web

format: deps
	npx prettier --write .

lint: deps
	npx eslint .

typecheck: deps
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p web/tsconfig.json

check: deps
	npx prettier --check .
	npx eslint .
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p web/tsconfig.json

test: setup check
	node scripts/run-tests.mjs

# Three stream servers and a balancer on loopback, real documents, streamed answers.
demo: setup
	node --import tsx scripts/demo.ts

# Rewrites every generated file: the CRD and its field reference, dist/install.yaml and the
# chart's generated files. Tests fail while any of them is out of date.
generate: deps
	npx tsx scripts/gen-crd.ts
	npx tsx scripts/gen-install.ts

# dist/install.yaml is generated but committed, so it stays.
clean:
	find dist -mindepth 1 -maxdepth 1 ! -name install.yaml -exec rm -rf {} +
