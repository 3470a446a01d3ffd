# microdhcp: the front door. `make help` lists the targets.
PYTHON ?= python3
MICROPYTHON ?= micropython
BOARD ?= esp32_ap
PORT ?= /dev/ttyUSB0
FUZZ_SECONDS ?= 600

.PHONY: help setup firmware demo test test-cpython test-micropython test-integration test-core fuzz fuzz-dns bench floors mpy deploy typecheck clean firmware-rp2 test-rp2 lint check

help:   ## list the targets
	@echo "microdhcp make targets:"
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-18s %s\n", $$1, $$2}'

setup:  ## install the Debian and PyPI packages everything here uses (idempotent)
	sh tools/setup.sh

demo: setup  ## the server on the MicroPython unix port serving real clients in a namespace lab
	$(PYTHON) tools/demo.py
	$(PYTHON) tools/demo_portal.py

firmware: setup  ## MicroPython from the vendored source: 32-bit unix (frozen/plain), qemu Cortex-M3 (build/firmware)
	$(PYTHON) tools/build_firmware.py

test: setup firmware  ## the whole suite: CPython (pytest, lab included) and the MicroPython run
	$(PYTHON) tools/run_tests.py

check:  ## for contributors, no root, no lab (< 2 min): core tests on both runtimes, lint, typecheck
	$(PYTHON) tools/run_tests.py --only cpython-core
	$(PYTHON) tools/run_tests.py --only micropython
	$(PYTHON) tools/run_tests.py --only lint
	$(PYTHON) tools/run_tests.py --only typecheck

lint:  ## ruff (pyproject.toml) and the generated files (units, settings table) checked current
	sh tools/lint.sh

test-core:  ## core tests on CPython only (fast, no root needed)
	$(PYTHON) tools/run_tests.py --only cpython-core

test-cpython:  ## every pytest test on CPython (lab tests need root)
	$(PYTHON) tools/run_tests.py --only cpython

test-micropython:  ## the core tests under the MicroPython unix port
	$(PYTHON) tools/run_tests.py --only micropython

test-integration:  ## the namespace-lab tests with real clients (root)
	$(PYTHON) tools/run_tests.py --only integration

fuzz:  ## coverage-guided fuzzing of the engine for FUZZ_SECONDS
	$(PYTHON) tools/fuzz_atheris.py --seconds $(FUZZ_SECONDS)

fuzz-dns:  ## coverage-guided fuzzing of the DNS responder for FUZZ_SECONDS
	$(PYTHON) tools/fuzz_dns_atheris.py --seconds $(FUZZ_SECONDS)

bench:  ## perfdhcp rate ladder vs Kea, udhcpd and dnsmasq, CPU per DORA, engine cost and memory
	$(PYTHON) tools/bench.py
	$(PYTHON) tools/bench_cpu.py
	$(MICROPYTHON) tools/bench_engine.py
	$(PYTHON) tools/bench_engine.py
	$(PYTHON) tools/bench_memory.py

floors: firmware  ## smallest heaps, 254 and 16 leases: engine run (32-bit unix, Cortex-M3), whole server through its socket (root)
	$(PYTHON) tools/heap_floor.py --target unix
	$(PYTHON) tools/heap_floor.py --target unix-server
	$(PYTHON) tools/heap_floor.py --target qemu

mpy:  ## compile the package with mpy-cross and print module sizes
	$(PYTHON) tools/build_mpy.py

deploy: mpy  ## copy to a board: make deploy BOARD=esp32_ap PORT=/dev/ttyUSB0 [DRY=1]
	$(PYTHON) tools/deploy.py --board $(BOARD) --port $(PORT) $(if $(DRY),--dry-run)

typecheck:  ## check firmware/ and boards/ against the ESP32 and RP2 stubs
	sh tools/typecheck.sh

firmware-rp2:  ## MicroPython for the Pico (RPI_PICO) with microdhcp frozen: build/rp2/firmware.uf2 (cached)
	$(PYTHON) tools/build_rp2.py

test-rp2: firmware-rp2  ## that firmware in the rp2040js emulator: device tests and the per-message bench
	$(PYTHON) tools/run_tests.py --only rp2

clean:  ## remove build output
	rm -rf build out .pytest_cache
