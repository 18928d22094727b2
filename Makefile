# majordome — the commands of the README.
#   make demo    install dependencies, build, run the main job on generated data
#   make test    install dependencies, build, run every test (starts a throwaway PostgreSQL)
#   make bench   run the benchmarks in bench/ and print their numbers
#   make sanitize  build with ASan and UBSan (preset asan); run the unit tests and an e2e smoke test
BUILD ?= build
SANITIZE_BUILD ?= build-asan
PRESET ?= $(if $(CI),ci,default)
JOBS ?= $(shell nproc)

.PHONY: all setup build test unit sanitize demo bench clean

all: build

setup:
	@scripts/setup-deps

build: setup
	@mkdir -p $(BUILD) && cmake --preset $(PRESET) -B $(BUILD) >$(BUILD)/configure.log 2>&1 || { cat $(BUILD)/configure.log; exit 1; }
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	@scripts/run-tests $(BUILD)

unit: build
	@cd $(BUILD) && ctest -L unit --output-on-failure -j$(JOBS)

# The unit-test binaries (target unit_tests) and the majordome binary, not the benchmarks;
# runs the unit tests (SQLite and the throwaway PostgreSQL that make test also starts) and
# e2e.smoke (label smoke: tests/e2e/test_commands.py on SQLite, through the sanitized CLI).
sanitize: setup
	@mkdir -p $(SANITIZE_BUILD) && cmake --preset asan -B $(SANITIZE_BUILD) >$(SANITIZE_BUILD)/configure.log 2>&1 || { cat $(SANITIZE_BUILD)/configure.log; exit 1; }
	@cmake --build $(SANITIZE_BUILD) -j$(JOBS) --target unit_tests majordome
	@scripts/run-tests $(SANITIZE_BUILD) -L '^(unit|smoke)$$'

demo: build
	@scripts/demo $(BUILD)

bench: build
	@scripts/run-benchmarks $(BUILD)

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD)
