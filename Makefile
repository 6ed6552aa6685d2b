# SPDX-License-Identifier: LGPL-2.1-or-later
# Thin wrappers: install what is missing, then drive meson.

.PHONY: all deps demo check fuzz bench bench-volume clean

all: deps
	meson setup build 2>/dev/null || true
	ninja -C build

deps:
	./scripts/install-deps

demo: deps
	./scripts/demo

check: deps
	./scripts/run-tests

# Every libFuzzer harness SECONDS seconds on its corpus (and fixtures) in build-fuzz, with clang;
# exits non-zero on any finding (scripts/fuzz, docs/testing.md).
SECONDS ?= 60
fuzz: deps
	./scripts/fuzz $(SECONDS)

bench: deps all
	./tests/bench/measure-bench.sh build/ephroot

bench-volume: deps all
	./tests/bench/volume-bench.sh build/ephroot

clean:
	rm -rf build build-fuzz

# Boot benchmark in the VM rig: ephroot copy/overlay against overlayroot's crypt mode (docs/performance.md).
.PHONY: bench-boot
bench-boot: deps all
	./tests/bench/boot-bench.sh
