# SPDX-License-Identifier: GPL-2.0
#
# vportx top-level build. `make check` and `make demo` are all a fresh
# Debian 12 machine needs: they install missing packages, build, boot a
# guest and run.

# The guest kernel: never this host's `uname -r` (no headers, no modules).
KVER ?= $(shell scripts/kver 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build
BUILD := $(CURDIR)/build
PREFIX ?= /usr/local
DESTDIR ?=
LINUX_SRC ?= /usr/src/linux-source-6.1.tar.xz

export KVER BUILD

.PHONY: all module userspace selftests deps check demo install uninstall \
	style clean check-run demo-run check-rig

all: module userspace selftests

module:
	@test -n "$(KVER)" || { echo "make: no guest kernel headers: run scripts/deps" >&2; exit 1; }
	@$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules >$(BUILD)/module.log 2>&1; \
		rc=$$?; cat $(BUILD)/module.log; exit $$rc
	@! grep -q 'warning:' $(BUILD)/module.log || \
		{ echo "make: the module build has warnings" >&2; exit 1; }

$(BUILD):
	mkdir -p $@

module userspace selftests: | $(BUILD)

userspace:
	$(MAKE) -C userspace

selftests: $(BUILD)/ksrc/.extracted
	$(MAKE) -C selftests

# The kselftest harness and checkpatch come from Debian's linux-source; only
# the few files used are unpacked, once.
KSRC_FILES := tools/testing/selftests/kselftest_harness.h \
	tools/testing/selftests/kselftest.h \
	scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch
$(BUILD)/ksrc/.extracted: | $(BUILD)
	@test -f $(LINUX_SRC) || { echo "make: $(LINUX_SRC) missing: run scripts/deps" >&2; exit 1; }
	mkdir -p $(BUILD)/ksrc
	tar -xJf $(LINUX_SRC) -C $(BUILD)/ksrc --strip-components=1 \
		$(addprefix linux-source-6.1/,$(KSRC_FILES))
	touch $@

deps:
	scripts/deps

# Set-up first, then a fresh make so KVER is computed after the kernel
# headers are installed.
check: deps
	$(MAKE) check-run

check-run: all
	selftests/rig/run

# The rig's own proof that it can fail (see selftests/rig/canary).
check-rig: deps
	$(MAKE) all
	selftests/rig/canary

demo: deps
	$(MAKE) demo-run

demo-run: all
	selftests/rig/run --demo

style: $(BUILD)/ksrc/.extracted
	perl $(BUILD)/ksrc/scripts/checkpatch.pl --strict --no-tree --terse \
		--ignore FILE_PATH_CHANGES \
		-f $(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h) \
		include/uapi/linux/vportx.h

install: module userspace
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=extra modules_install
	$(MAKE) -C userspace install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	install -D -m 0644 include/uapi/linux/vportx.h \
		$(DESTDIR)$(PREFIX)/include/linux/vportx.h
	test -n "$(DESTDIR)" || depmod -a $(KVER)

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KVER)/extra/kmod/vportx.ko
	$(MAKE) -C userspace uninstall DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	rm -f $(DESTDIR)$(PREFIX)/include/linux/vportx.h
	test -n "$(DESTDIR)" || depmod -a $(KVER)

clean:
	test -z "$(KVER)" || $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C userspace clean
	rm -rf $(BUILD)
