# callpipe: the one build. `make` builds, `make test` runs every test, `make run` starts the
# stack on loopback; all three first install the Debian 12 packages they need (scripts/deps).

PREFIX   ?= /usr/local
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD    ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT      ?= -O1
else
BUILD    ?= build
SANFLAGS :=
OPT      ?= -O2
endif

PKGS     := fcgi libcjson libwebsockets inih libssl libcrypto libcurl libxml-2.0 espeak-ng speexdsp sndfile pocketsphinx
# Recursive (=) on purpose: pkg-config is only asked once `deps` has installed it.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))

WARN     := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wmissing-prototypes \
            -Wstrict-prototypes -Wpointer-arith -Wvla
CFLAGS   ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DCALLPIPE_DATADIR='"$(PREFIX)/share/callpipe"' $(WARN) $(CFLAGS) $(SANFLAGS) -MMD -MP \
             -Icommon -Ifcgi -Iwshelper -Iaudio -Ispeech $(PKG_CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) -Wl,--as-needed $(LDFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lev -lpthread -lm

# One directory per program; each has main.c, the rest of its files are a library the
# unit tests and fuzzers link too.
COMMON_SRC := $(wildcard common/*.c)
FCGI_SRC   := $(filter-out fcgi/main.c,$(wildcard fcgi/*.c))
# audio/ (pure signal code) and speech/ (engines, workers) belong to the helper.
WS_SRC     := $(filter-out wshelper/main.c,$(wildcard wshelper/*.c)) \
              $(wildcard audio/*.c speech/*.c)
SIM_SRC    := $(filter-out tools/sim/main.c,$(wildcard tools/sim/*.c))
LOG_SRC    := $(filter-out tools/log/main.c,$(wildcard tools/log/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

BINS  := $(BUILD)/callpipe-fcgi $(BUILD)/callpipe-ws $(BUILD)/callpipe-sim $(BUILD)/callpipe-log
UNITS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZERS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))

# Keep the unit tests' objects: they are intermediates of a pattern chain.
.SECONDARY:

.PHONY: all deps deps-build build test unit fuzz fuzz-build run bench soak install install-confs \
        deb deb-test clean check-deps
.DEFAULT_GOAL := all

# `make` needs only the libraries' -dev packages; Apache, lighttpd, the speech engines and
# clang come with `make test` / `make run`, wrk with `make bench` (scripts/deps has the lists).
all: deps-build
	@$(MAKE) --no-print-directory build

deps-build:
	@scripts/deps build

deps:
	@scripts/deps test

build: $(BINS) $(UNITS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The compiled-in data directory follows PREFIX: the files that use it are rebuilt when
# PREFIX changes (the stamp's content is the PREFIX they were built with).
$(BUILD)/prefix.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' > $@
$(BUILD)/obj/common/config.o $(BUILD)/obj/tests/unit/test_config.o: $(BUILD)/prefix.stamp
.PHONY: FORCE
FORCE:

$(BUILD)/libcommon.a: $(call obj,$(COMMON_SRC))
$(BUILD)/libfcgi.a: $(call obj,$(FCGI_SRC))
$(BUILD)/libws.a: $(call obj,$(WS_SRC))
$(BUILD)/libsim.a: $(call obj,$(SIM_SRC))
$(BUILD)/liblog.a: $(call obj,$(LOG_SRC))
$(BUILD)/%.a:
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^ $(if $^,,$(BUILD)/obj/empty.o)

$(BUILD)/obj/empty.o:
	@mkdir -p $(@D)
	echo 'extern int callpipe_empty_unit; int callpipe_empty_unit;' | $(CC) -x c -c - -o $@

$(BUILD)/libfcgi.a $(BUILD)/libws.a $(BUILD)/libsim.a $(BUILD)/liblog.a: | $(BUILD)/obj/empty.o

$(BUILD)/callpipe-fcgi: $(call obj,fcgi/main.c) $(BUILD)/libfcgi.a $(BUILD)/libcommon.a
$(BUILD)/callpipe-ws:   $(call obj,wshelper/main.c) $(BUILD)/libws.a $(BUILD)/libcommon.a
# The simulator speaks audio files (--say) through the helper's audio/ converters.
$(BUILD)/callpipe-sim:  $(call obj,tools/sim/main.c) $(BUILD)/libsim.a \
                        $(call obj,$(wildcard audio/*.c)) $(BUILD)/libcommon.a
$(BUILD)/callpipe-log:  $(call obj,tools/log/main.c) $(BUILD)/liblog.a $(BUILD)/libcommon.a
$(BINS):
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

# libsim.a before libws.a: the simulator's --say uses audio/, which libws.a holds.
TEST_LIBS := $(BUILD)/libfcgi.a $(BUILD)/libsim.a $(BUILD)/libws.a $(BUILD)/liblog.a $(BUILD)/libcommon.a
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

# libFuzzer targets are built with clang (separate tree) from the same sources.
FUZZ_LIB_SRC := $(COMMON_SRC) $(WS_SRC) $(FCGI_SRC)
build-fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRC) $(wildcard common/*.h wshelper/*.h fcgi/*.h audio/*.h speech/*.h)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	  -Icommon -Ifcgi -Iwshelper -Iaudio -Ispeech $(PKG_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(LDLIBS_ALL)

fuzz-build: deps
	@$(MAKE) --no-print-directory $(FUZZERS)

# `make fuzz FUZZ_SECONDS=600` runs every target that long; corpora stay in build-fuzz/.
FUZZ_SECONDS ?= 60
fuzz: fuzz-build
	@for f in $(FUZZERS); do \
	  mkdir -p $$f.corpus; \
	  echo "== $$f for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$f.corpus tests/fuzz/seeds/$$(basename $$f) 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' || exit 1; \
	done

test: deps
	@$(MAKE) --no-print-directory build
	@$(if $(filter 1,$(SANITIZE)),,$(MAKE) --no-print-directory $(FUZZERS))
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run

# The stack gets SIGTERM when make itself dies (a kill of make, not only Ctrl-C to the
# terminal's whole process group), so it never outlives the command that started it.
run: deps
	@$(MAKE) --no-print-directory build
	@BUILD=$(BUILD) exec setpriv --pdeathsig TERM scripts/stack run

bench: deps
	@scripts/deps bench
	@$(MAKE) --no-print-directory build
	@BUILD=$(BUILD) scripts/bench

# Minutes of calls against the LeakSanitizer build (SANITIZE=0: the normal one); RSS, fds,
# calls and LSan's verdict (scripts/soak: SOAK_SECONDS, SOAK_CALLS, MODE). Not part of test.
SOAK_SANITIZE := $(if $(filter file,$(origin SANITIZE)),1,$(SANITIZE))
soak: deps
	@$(MAKE) --no-print-directory build SANITIZE=$(SOAK_SANITIZE)
	@SANITIZE=$(SOAK_SANITIZE) scripts/soak

# `make install` (DESTDIR, PREFIX): daemons in sbin, tools in bin, the shipped templates,
# the man pages there are, and the systemd units with their program paths rewritten to
# PREFIX. `make install-confs` adds what lives under /etc (never overwriting a config that
# is there): the default callpipe.conf, Apache's and lighttpd's conf-available files. The
# Debian package runs both (docs/PACKAGING.md).
UNITDIR  ?= $(PREFIX)/lib/systemd/system
MANPAGES := $(wildcard man/*.1 man/*.5 man/*.8)
UNITS_SYSTEMD := $(wildcard systemd/*.service systemd/*.socket)
# The program paths in units and confs, whichever way they are spelled there.
PATHS_SED = -E 's\#/usr/(local/)?s?bin/callpipe-(fcgi|ws)\#$(PREFIX)/sbin/callpipe-\2\#g'

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	  $(DESTDIR)$(PREFIX)/share/callpipe/twiml-templates
	install -m 0755 $(BUILD)/callpipe-fcgi $(BUILD)/callpipe-ws $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(BUILD)/callpipe-sim $(BUILD)/callpipe-log $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 twiml-templates/*.xml $(DESTDIR)$(PREFIX)/share/callpipe/twiml-templates/
	@set -e; for m in $(MANPAGES); do \
	  s=$${m##*.}; install -d $(DESTDIR)$(PREFIX)/share/man/man$$s; \
	  echo "install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/"; \
	  install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done
	@set -e; install -d $(DESTDIR)$(UNITDIR); for u in $(UNITS_SYSTEMD); do \
	  echo "sed $$u > $(DESTDIR)$(UNITDIR)/$${u##*/}"; \
	  sed $(PATHS_SED) $$u > $(DESTDIR)$(UNITDIR)/$${u##*/}; \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/}; done

# The /etc side. The lighttpd file sets the variables the shared conf expects, then
# carries it; it stays in conf-available (enable: lighty-enable-mod fastcgi proxy callpipe).
install-confs:
	install -d $(DESTDIR)/etc/callpipe $(DESTDIR)/etc/apache2/conf-available \
	  $(DESTDIR)/etc/lighttpd/conf-available
	[ -e $(DESTDIR)/etc/callpipe/callpipe.conf ] || \
	  install -m 0640 etc/callpipe.conf $(DESTDIR)/etc/callpipe/callpipe.conf
	sed $(PATHS_SED) apache-conf/callpipe.conf > $(DESTDIR)/etc/apache2/conf-available/callpipe.conf
	{ echo '# callpipe for lighttpd (generated by make install-confs from lighttpd-conf/callpipe.conf)'; \
	  echo '# Enable: lighty-enable-mod fastcgi proxy callpipe && systemctl reload lighttpd'; \
	  echo 'var.callpipe_fcgi       = "$(PREFIX)/sbin/callpipe-fcgi"'; \
	  echo 'var.callpipe_conf       = "/etc/callpipe/callpipe.conf"'; \
	  echo 'var.callpipe_socket_dir = "/run/lighttpd"'; \
	  echo 'var.callpipe_ws_host    = "127.0.0.1"'; \
	  echo 'var.callpipe_ws_port    = 8081'; \
	  echo 'var.callpipe_body_limit_kib = 80'; echo; \
	  sed $(PATHS_SED) lighttpd-conf/callpipe.conf; } > $(DESTDIR)/etc/lighttpd/conf-available/50-callpipe.conf
	chmod 0644 $(DESTDIR)/etc/apache2/conf-available/callpipe.conf \
	  $(DESTDIR)/etc/lighttpd/conf-available/50-callpipe.conf

# The Debian package (debian/, docs/PACKAGING.md): build/deb/callpipe_<version>_<arch>.deb,
# lintian-checked. deb-test installs it in a fresh Debian 12 root with Apache and makes an
# echo call through it (slow: debootstrap; not part of `make test`).
deb:
	@scripts/deps deb
	@scripts/deb-build

deb-test: deb
	@scripts/deb-test

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
