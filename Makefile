# den: a thin wrapper over CMake. The two set-up commands are
#   make up     install what is missing, build, bring up Envfile.example
#   make test   install what is missing, build, run every test
BUILD      ?= build
TEST_BUILD ?= build-test
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGET ?= envfile
PREFIX     ?= /usr/local
DESTDIR    ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
DEN        := $(BUILD)/den
MAKEFLAGS  += --no-print-directory

.PHONY: all deps configure build test up install deb fuzz bench format clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

build: $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

# Tests run against a sanitized build (ASan + UBSan) of den itself.
test: deps
	@scripts/test-debs.sh
	@cmake -S . -B $(TEST_BUILD) -DDEN_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@scripts/ctest.sh $(TEST_BUILD) --output-on-failure -j $(JOBS)

# Builds den and the debian-12 box (cached by recipe hash), then brings up
# Envfile.example's machine with the container provider. Needs root.
up: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS) --target den
	@./$(DEN) box build debian-12 --provider container --output $(BUILD)/boxes --add >/dev/null
	@DEN_ENVFILE=Envfile.example ./$(DEN) up
	@DEN_ENVFILE=Envfile.example ./$(DEN) status
	@echo
	@echo "Log in:   DEN_ENVFILE=Envfile.example ./$(DEN) ssh"
	@echo "Stop it:  DEN_ENVFILE=Envfile.example ./$(DEN) halt   (or destroy)"

# den, its manual pages (man den, man den-up, man 5 Envfile) and its bash,
# zsh and fish completions.
install: build
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX) >/dev/null
	@echo "installed den to $(DESTDIR)$(PREFIX)/bin/den, with its manual pages and completions"

# den's Debian package, $(BUILD)/den_VERSION_amd64.deb (dpkg-buildpackage).
deb: deps
	@scripts/deb.sh $(BUILD)

# libFuzzer, 60 s by default: FUZZ_TARGET=envfile (default), catalog or p9.
fuzz:
	@scripts/deps.sh fuzz
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DDEN_FUZZ=ON -DDEN_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_$(FUZZ_TARGET)
	@mkdir -p $(FUZZ_BUILD)/corpus-$(FUZZ_TARGET)
	@if [ $(FUZZ_TARGET) = envfile ]; then \
	  cp tests/envfiles/good/*.yml templates/*.yml Envfile.example $(FUZZ_BUILD)/corpus-envfile/; \
	else cp tests/fixtures/catalogs/*.json $(FUZZ_BUILD)/corpus-$(FUZZ_TARGET)/ 2>/dev/null; true; fi
	$(FUZZ_BUILD)/fuzz_$(FUZZ_TARGET) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	  $(if $(filter envfile p9,$(FUZZ_TARGET)),-dict=tests/fuzz/$(FUZZ_TARGET).dict) \
	  $(FUZZ_BUILD)/corpus-$(FUZZ_TARGET)

# Figures, printed (never pass/fail): start-up, box download, box build.
bench: build
	@scripts/deps.sh bench
	@bench/startup.sh $(DEN) $(BUILD)/bench_startup
	@bench/box_add.sh $(DEN) 1024 3
	@bench/box_build.sh $(DEN) debian-12
	@bench/container_up.sh $(DEN) 10
	@bench/synced_folder.sh $(DEN) 256 3
	@bench/provision.sh $(DEN) 50
	@bench/vmm_boot.sh $(DEN)
	@bench/vmm_startup.sh $(DEN)
	@bench/kvm_provider.sh $(DEN)
	@bench/qemu_up.sh $(DEN) 3
	@bench/parallel_up.sh $(DEN) 5
	@bench/private_network.sh $(DEN) 5
	@bench/parallel_vms.sh $(DEN)
	@bench/box_image.sh $(DEN)
	@bench/lxd_up.sh $(DEN) 5
	@bench/completion.sh $(DEN) $(BUILD)/bench_startup
	@bench/registry.sh $(DEN) 500 3

format:
	@clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD)
