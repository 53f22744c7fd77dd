# Tardis-TS. `make run` and `make test` are the two commands a fresh Debian machine needs.
# Everything runs on a pinned Node LTS fetched from the npm registry into .tools/ (the host's
# node only bootstraps npm).
NODE_VERSION := 26.10.0
ARCH := $(shell uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
TOOLS := .tools
NODE := $(TOOLS)/node-$(NODE_VERSION)/bin/node
DIR ?= testdata
TOOLS_LIST := tardis tardisd regenerate lstardis tardiff sonic tardisfs tardisremote

export PATH := $(CURDIR)/$(TOOLS)/node-$(NODE_VERSION)/bin:$(PATH)

.PHONY: all deps build run test typecheck unit clean bench docs

all: build

$(NODE):
	@mkdir -p $(TOOLS)/dl
	cd $(TOOLS)/dl && npm pack --silent node-linux-$(ARCH)@$(NODE_VERSION) >/dev/null
	mkdir -p $(TOOLS)/node-$(NODE_VERSION)
	tar -xzf $(TOOLS)/dl/node-linux-$(ARCH)-$(NODE_VERSION).tgz -C $(TOOLS)/node-$(NODE_VERSION) --strip-components=1
	rm -rf $(TOOLS)/dl
	@$(NODE) --version

node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --no-save --loglevel=error
	@touch $@

deps: $(NODE) node_modules/.installed

build: deps
	$(NODE) build.ts

# The main job on the embedded default: encrypted file: repository under ./.tardis/, back up
# DIR, list the sets, restore the newest set into a temporary directory, compare byte for byte.
run: build
	$(NODE) scripts/run-demo.ts "$(DIR)"

typecheck: deps
	$(NODE) node_modules/typescript/bin/tsc -p tsconfig.json

unit: build
	$(NODE) --test --test-concurrency=2 --test-timeout=600000 "internal/**/*.test.ts" "cmd/**/*.test.ts" "docs/*.test.ts"

test: typecheck unit

# Speed, size and memory side by side with restic and borg (installed from Debian if missing),
# plus micro-benchmarks of each stage. BENCH_SIZE=small|default, BENCH_DIR, BENCH_KEEP=1.
# Writes bench/results/<date>-<size>.md and bench/results/latest.md. Not part of `make test`.
export BENCH_SIZE BENCH_DIR BENCH_KEEP BENCH_TOOLS
bench: build
	$(NODE) scripts/bench/main.ts

# The command reference, from the tools' own --help.
docs: build
	$(NODE) scripts/gen-docs.ts

clean:
	rm -rf build bin dist .tardis

# Release (README "Install"): dist/ gets one self-contained executable per architecture (Node
# single executable application: runtime + bundle + libSQL addon), a .tar.xz and a .deb of
# each, and SHA256SUMS. Installs qemu-user-static and the arm64 cross runtime and binutils from
# Debian if missing (apt-get). RELEASE_ARCHES=x64 builds one architecture.
.PHONY: release release-test install
RELEASE_ARCHES ?= x64 arm64
release: deps
	$(NODE) scripts/release/main.ts $(RELEASE_ARCHES)

# Runs what `make release` built as a user would: env -i without node, tardisd, arm64 under
# qemu, cross-architecture repositories, the .deb in a scratch root; the bundle under Bun and Deno.
release-test: release
	$(NODE) --test --test-concurrency=1 --test-timeout=900000 "scripts/release/*.test.ts"

# A source install: this machine's executable (no Node needed afterwards) as PREFIX/bin/tardis
# with a symlink per tool, docs and sample configs in PREFIX/share. DESTDIR is honoured.
PREFIX ?= /usr/local
install: deps
	$(NODE) scripts/release/main.ts --install "$(DESTDIR)$(PREFIX)"
