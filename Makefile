# majordome — the commands of the README.
#   make demo    install dependencies, build, run the main job on generated data
#   make test    install dependencies, build, run every test (starts a throwaway PostgreSQL)
#   make bench   run the benchmarks in bench/ and print their numbers
BUILD ?= build
PRESET ?= $(if $(CI),ci,default)
JOBS ?= $(shell nproc)

.PHONY: all setup build test unit demo bench clean

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

demo: build
	@scripts/demo $(BUILD)

bench: build
	@scripts/run-benchmarks $(BUILD)

clean:
	rm -rf $(BUILD)
