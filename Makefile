# casemate: `make` builds build/casemate; `make check` installs what it needs
# (Debian 12), builds, and runs every test; `make demo` shows it working.
CC      ?= gcc
PREFIX  ?= /usr/local
BUILD   ?= build
PKGS    := libseccomp jansson libcap
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lseccomp -ljansson -lcap) -pthread
CFLAGS  ?= -O2
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation $(if $(findstring clang,$(CC)),-Wno-unknown-warning-option,)
CPPFLAGS_ALL := -std=c11 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) -MMD -MP
SRCS    := $(shell find src -name '*.c' | sort)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
OBJS    := $(SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 15
BUILD_DEPS := build-essential pkg-config libseccomp-dev libjansson-dev libcap-dev busybox-static
TEST_DEPS := clang libclang-rt-14-dev libcmocka-dev python3-pytest iproute2 nftables hyperfine \
             crun runc docker.io podman containerd
APT_DEPS := $(BUILD_DEPS) $(TEST_DEPS)

.PHONY: deps-build integration-asan man all check deps unit unit-asan integration fuzz clang-check install demo rootfs clean bench
all: $(BUILD)/casemate

$(BUILD)/casemate: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(WARN) $(CFLAGS) -c -o $@ $<

# Unit tests (cmocka), linked against every module but main.
$(BUILD)/libcasemate.a: $(LIB_OBJS)
	ar rcs $@ $^
$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libcasemate.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(WARN) $(CFLAGS) -o $@ $< $(BUILD)/libcasemate.a $(PKG_LIBS) -lcmocka

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# The same unit tests under ASan and UBSan (LeakSanitizer included).
unit-asan:
	$(MAKE) BUILD=$(BUILD)/asan CC=clang CFLAGS="-O1 -g $(SAN)" unit

# clang -Wall -Wextra -Werror must be clean too.
clang-check:
	$(MAKE) BUILD=$(BUILD)/clang CC=clang all

$(BUILD)/rootfs/bin/busybox: tests/make-rootfs.sh
	sh tests/make-rootfs.sh $(BUILD)/rootfs
rootfs: $(BUILD)/rootfs/bin/busybox

integration: all rootfs
	CASEMATE=$(abspath $(BUILD)/casemate) ROOTFS=$(abspath $(BUILD)/rootfs) \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration

# The runtime's integration tests again, against an ASan+UBSan build of
# casemate (LeakSanitizer on): every path of the real setup sequence.
ASAN_BIN := $(BUILD)/asan/casemate
integration-asan: rootfs
	$(MAKE) BUILD=$(BUILD)/asan CC=clang CFLAGS="-O1 -g $(SAN)" $(ASAN_BIN)
	ASAN_OPTIONS=detect_leaks=1 CASEMATE=$(abspath $(ASAN_BIN)) ROOTFS=$(abspath $(BUILD)/rootfs) \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_run.py \
	  tests/integration/test_escapes.py tests/integration/test_exec.py tests/integration/test_seccomp.py \
	  tests/integration/test_oci_runtime.py tests/integration/test_lifecycle.py tests/integration/test_limits.py

# libFuzzer harnesses, each run for a short time. The modules are compiled
# once (instrumented, no libFuzzer main) and every harness links them.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJS := $(LIB_SRCS:%.c=$(BUILD)/fuzz/obj/%.o)
$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS_ALL) -g -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c -o $@ $<
$(BUILD)/fuzz/libfuzzcm.a: $(FUZZ_OBJS)
	ar rcs $@ $^
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/fuzz/libfuzzcm.a
	clang $(CPPFLAGS_ALL) -g -O1 -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(BUILD)/fuzz/libfuzzcm.a $(PKG_LIBS)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
fuzz: $(FUZZ_BINS)
	@set -e; for b in $(FUZZ_BINS); do n=$$(basename $$b); \
	  mkdir -p $$b.corpus; seeds=tests/fuzz/corpus/$$n; [ -d $$seeds ] || seeds=; \
	  echo "== fuzz $$n for $(FUZZ_SECONDS)s"; \
	  $$b -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 $$b.corpus $$seeds >$$b.log 2>&1 || \
	    { tail -n 40 $$b.log; exit 1; }; \
	done

# Install what is missing from Debian (one apt-get update, then install).
install-missing = missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
deps:
	@$(call install-missing,$(APT_DEPS))
deps-build:
	@$(call install-missing,$(BUILD_DEPS))

check: deps
	$(MAKE) all man
	$(MAKE) clang-check
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) fuzz
	$(MAKE) integration
	$(MAKE) integration-asan

demo: deps-build
	$(MAKE) all rootfs
	sh tests/demo.sh $(abspath $(BUILD)/casemate) $(abspath $(BUILD)/rootfs)

bench: all rootfs
	sh bench/run.sh

# Man pages: casemate-run(1)'s OPTIONS come from the parser's own table.
MAN_PAGES := $(wildcard docs/man/*.1) $(BUILD)/man/casemate-run.1
$(BUILD)/man/casemate-run.1: docs/man/casemate-run.1.in $(BUILD)/casemate
	@mkdir -p $(dir $@)
	$(BUILD)/casemate run --man-options > $@.opts
	sed -e '/@OPTIONS@/{r $@.opts' -e 'd}' $< > $@
	rm -f $@.opts
man: $(BUILD)/man/casemate-run.1

install: all man
	install -D -m 0755 $(BUILD)/casemate $(DESTDIR)$(PREFIX)/bin/casemate
	for m in $(MAN_PAGES); do install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/$$(basename $$m); done

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
