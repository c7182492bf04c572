# persona-eval: plain GNU Makefile.
# Our flags first; the user's CFLAGS, CPPFLAGS and LDFLAGS are appended, never replaced.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
BIN ?= persona-eval
CC ?= cc
PKG_CONFIG ?= pkg-config
VERSION := 0.1.0
GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

PKGS := libcurl libcjson openblas libcrypto
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

OPT ?= -O2
WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifeq ($(WERROR),1)
WARN += -Werror
endif
SAN ?=
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) $(SAN) -pthread -MMD -MP \
	-Iinclude -I$(BUILD)/gen -DPE_VERSION='"$(VERSION)"'
ALL_CFLAGS = $(BASE_CFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN) -pthread $(LDFLAGS)
LIBS := $(PKG_LIBS) -lm

# Layers, lowest first: each folder of src/ is one layer, and a module uses only
# modules of its own or lower layers (docs/DESIGN.md). The library is every
# layer but tool/, which turns argv and the environment into a configuration.
LAYERS := base data retrieval llm agent report run
LIB_SRC := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
LIB_OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/prompts_data.o
TOOL_SRC := $(wildcard src/tool/*.c)
TOOL_OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(TOOL_SRC))
# The subcommands without main(), for the tests and fuzz targets that drive one.
TOOL_LIB := $(BUILD)/libpetool.a
LIB := $(BUILD)/libpersonaeval.a
PROMPTS := $(sort $(wildcard prompts/*.txt))

TEST_SRC := $(wildcard tests/check_*.c)
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TEST_UTIL_OBJ := $(BUILD)/obj/tests/testutil.o
BENCH_SRC := $(wildcard tests/bench_*.c)
BENCH_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(BENCH_SRC))

# Keep intermediate objects (test objects would otherwise be deleted after linking).
.SECONDARY:

.PHONY: all check test bench asan fuzz fuzz-build valgrind install uninstall clean lib tests FORCE

all: $(BIN) libpersonaeval.a

lib: $(LIB)

# The static library at the top level, for those who link it.
libpersonaeval.a: $(LIB)
	@if [ "$(BUILD)" = build ]; then cp $(LIB) $@; fi

# The git revision, rewritten only when it changes so nothing rebuilds needlessly.
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define PE_GIT_REV "%s"\n' "$(GIT_REV)" > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

FORCE:

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/gen/version.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/prompts_data.c: $(PROMPTS) scripts/embed-prompts.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-prompts.sh $(PROMPTS) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/prompts_data.o: $(BUILD)/gen/prompts_data.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(TOOL_LIB): $(filter-out $(BUILD)/obj/tool/main.o,$(TOOL_OBJ))
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(TOOL_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(TOOL_OBJ) $(LIB) $(LIBS)

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests -Isrc/tool $(TEST_EXTRA_CFLAGS) -c -o $@ $<

# The dense top-K benchmark's bandwidth references (STREAM triad, pure read)
# are compiled as STREAM is run: for this CPU at -O3.
$(BUILD)/obj/tests/bench_topk.o: TEST_EXTRA_CFLAGS := -O3 -march=native

$(BUILD)/tests/check_%: $(BUILD)/obj/tests/check_%.o $(TEST_UTIL_OBJ) $(TOOL_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_UTIL_OBJ) $(TOOL_LIB) $(LIB) $(CHECK_LIBS) $(LIBS)

$(BUILD)/tests/bench_%: $(BUILD)/obj/tests/bench_%.o $(TEST_UTIL_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_UTIL_OBJ) $(LIB) $(CHECK_LIBS) $(LIBS)

tests: $(TEST_BIN)

check test: $(BIN) $(TEST_BIN)
	PE_BIN=$(abspath $(BIN)) PE_BUILD=$(abspath $(BUILD)) sh tests/run-tests.sh $(TEST_BIN)

bench: $(BIN) $(BENCH_BIN)
	PE_BIN=$(abspath $(BIN)) sh tests/run-bench.sh $(BENCH_BIN)

# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	$(MAKE) BUILD=build-asan BIN=build-asan/persona-eval OPT=-O1 \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		check

# libFuzzer targets (tests/fuzz/), built with clang in build-fuzz and run for
# FUZZ_SECONDS each; a crash, leak or sanitizer report fails the target and
# leaves its input in build-fuzz/artifacts/<target>/ (see docs/robustness.md).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= dataset chat react score
FUZZ_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_BIN := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))

fuzz:
	@if ! command -v $(FUZZ_CC) >/dev/null 2>&1 || ! printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { (void)d; (void)n; return 0; }\n' | \
		$(FUZZ_CC) -fsanitize=fuzzer -x c - -o /dev/null >/dev/null 2>&1; then \
		echo "make fuzz: needs clang with libFuzzer ($(FUZZ_CC) -fsanitize=fuzzer);" \
			"on Debian: apt-get install clang" >&2; exit 1; fi
	$(MAKE) BUILD=build-fuzz CC=$(FUZZ_CC) OPT=-O1 SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
		fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus/$$t build-fuzz/artifacts/$$t; \
		echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
		build-fuzz/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			-close_fd_mask=3 -print_final_stats=1 \
			-artifact_prefix=build-fuzz/artifacts/$$t/ \
			build-fuzz/corpus/$$t tests/fuzz/corpus/$$t 2>&1 | \
			grep -E '^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units|ERROR|SUMMARY|artifact' || true; \
		if ls build-fuzz/artifacts/$$t/* >/dev/null 2>&1; then \
			echo "fuzz_$$t: found a failing input: $$(ls build-fuzz/artifacts/$$t/)" >&2; \
			exit 1; fi; \
	done

fuzz-build: $(FUZZ_BIN)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/targets.c tests/fuzz/targets.h $(TOOL_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -Itests/fuzz -Isrc/tool -o $@ $< tests/fuzz/targets.c \
		$(TOOL_LIB) \
		$(LIB) $(LIBS)

# Every Check suite under valgrind (no fork, so leaks in the tested code are
# seen), then the binary on a small sample run. Suites in VALGRIND_NOLEAK fork
# children that run a command and _exit with the parent's memory still held, so
# a leak check there reports the parent's live blocks: they run with checks of
# invalid accesses only (cmd_score's leaks are checked in-process by
# check_fuzz_regressions).
VALGRIND_BASE ?= valgrind --error-exitcode=1 --trace-children=no --quiet
VALGRIND ?= $(VALGRIND_BASE) --leak-check=full --errors-for-leak-kinds=definite,indirect
VALGRIND_NOLEAK ?= check_metrics
valgrind: $(BIN) $(TEST_BIN)
	@set -e; for t in $(TEST_BIN); do \
		start=$$(date +%s); vg="$(VALGRIND)"; \
		case " $(VALGRIND_NOLEAK) " in *" $$(basename $$t) "*) \
			vg="$(VALGRIND_BASE) --leak-check=no";; esac; \
		if ! CK_FORK=no PE_BIN=$(abspath $(BIN)) PE_BUILD=$(abspath $(BUILD)) \
			$$vg $$t >$$t.valgrind.log 2>&1; then \
			tail -n 40 $$t.valgrind.log; echo "valgrind: $$t FAILED" >&2; exit 1; fi; \
		echo "valgrind: $$(basename $$t): ok ($$(( $$(date +%s) - start )) s)"; \
	done
	@d=$$(mktemp -d); start=$$(date +%s); \
	if ! $(VALGRIND) $(abspath $(BIN)) run --llm offline --method all --task lamp2m \
		--data data/sample/lamp2m.jsonl --users 2 --max-queries 2 --bootstrap 50 -j 2 \
		--cache off --wiki off --out $$d/run >$$d/log 2>&1; then \
		tail -n 40 $$d/log; rm -rf $$d; echo "valgrind: sample run FAILED" >&2; exit 1; fi; \
	rm -rf $$d; echo "valgrind: sample run: ok ($$(( $$(date +%s) - start )) s)"

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/persona-eval/prompts
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/persona-eval
	install -m 644 docs/persona-eval.1 $(DESTDIR)$(PREFIX)/share/man/man1/persona-eval.1
	for f in $(PROMPTS) prompts/README.md; do \
		install -m 644 $$f $(DESTDIR)$(PREFIX)/share/persona-eval/prompts/; done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/persona-eval $(DESTDIR)$(PREFIX)/share/man/man1/persona-eval.1
	rm -rf $(DESTDIR)$(PREFIX)/share/persona-eval

clean:
	rm -rf build build-asan build-fuzz persona-eval libpersonaeval.a

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/*/*.d)
