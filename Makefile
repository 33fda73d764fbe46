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
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
MANDIR ?= $(PREFIX)/share/man
VERSION := $(shell sed -n 's/^\#define VPORTX_VERSION "\(.*\)"/\1/p' kmod/version.h)

export KVER BUILD

.PHONY: all module userspace selftests deps check demo install uninstall \
	style clean check-run demo-run check-rig dkms-install dkms-uninstall \
	check-dkms fuzz bench bench-run check-matrix check-debug \
	install-tools dkms-src deb check-deb check-guest check-life \
	check-secure-boot check-upgrade

all: module userspace selftests

# VPORTX_ROOT: build inside that root of scripts/suite-root, with its
# compiler and headers (sid's 7.2 needs gcc-16); KVER and KDIR are then
# the root's. Kbuild turns sparse off, with only a note, when it finds it
# unusable: that fails here like a warning.
KBUILD_MAKE := $(if $(VPORTX_ROOT),scripts/in-root $(VPORTX_ROOT) make,$(MAKE))
module:
	@test -n "$(KVER)" || { echo "make: no guest kernel headers: run scripts/deps" >&2; exit 1; }
	@$(KBUILD_MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=2 modules >$(BUILD)/module.log 2>&1; \
		rc=$$?; cat $(BUILD)/module.log; exit $$rc
	@! grep -q 'warning:' $(BUILD)/module.log || \
		{ echo "make: the module build has warnings" >&2; exit 1; }
	@! grep -q 'is not available or not up to date' $(BUILD)/module.log || \
		{ echo "make: sparse did not run" >&2; exit 1; }

$(BUILD):
	mkdir -p $@

module userspace selftests: | $(BUILD)

userspace:
	$(MAKE) -C userspace

selftests: $(BUILD)/ksrc/.extracted
	$(MAKE) -C selftests

# The kselftest harness, checkpatch and the kernel's coccinelle scripts
# come from Debian's linux-source; only the few files used are unpacked,
# once.
KSRC_FILES := tools/testing/selftests/kselftest_harness.h \
	tools/testing/selftests/kselftest.h \
	scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch \
	scripts/coccinelle
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
	scripts/check

# The suite on every kernel of `scripts/kver --matrix` (6.1, 6.12 and
# 6.12-rt) and on sid's 7.2, the module built for each with W=1 and
# sparse, then on 6.1 under trixie's and sid's QEMU. ONLY=sid,
# ONLY=qemu-trixie or ONLY=qemu-sid runs that one (Documentation/
# support.rst).
check-matrix:
	scripts/deps matrix
	$(MAKE) userspace selftests
	scripts/check-kernels $(if $(ONLY),--only $(ONLY))

# The suite on a debug kernel (KASAN, lockdep, kmemleak...), built once
# from linux-source and cached (scripts/debug-kernel).
check-debug:
	scripts/deps debug
	$(MAKE) userspace selftests
	scripts/check-kernels --debug

# The policy parser under libFuzzer for FUZZ_SECONDS (default 60).
fuzz:
	$(MAKE) -C userspace fuzz

# The rig's own proof that it can fail (see selftests/rig/canary).
check-rig: deps
	$(MAKE) all
	selftests/rig/canary

demo: deps
	$(MAKE) demo-run

demo-run: all
	selftests/rig/run --demo

# stock /dev/vportNpM against /dev/vportxNpM in one guest boot, and an
# AF_VSOCK stream beside them (VPORTX_VSOCK=0: none); the table,
# build/bench/results.csv and chart.svg (Documentation/performance.rst).
bench: deps
	[ "$${VPORTX_VSOCK-1}" = 0 ] || scripts/deps vsock
	[ "$${VPORTX_VSOCK-1}" = 0 ] || scripts/vsock-host setup
	$(MAKE) bench-run

bench-run: all
	$(MAKE) -C selftests/bench
	VPORTX_VSOCK=$${VPORTX_VSOCK-1} selftests/rig/run --bench

# The module and its UAPI with --strict; user space without it (--strict
# wants kernel-only helpers such as BIT() and u8). The rig's host peer has
# no <linux/compiler_attributes.h>: it spells __printf out itself. Then
# the kernel's coccinelle scripts over the module (scripts/cocci).
style: $(BUILD)/ksrc/.extracted
	perl $(BUILD)/ksrc/scripts/checkpatch.pl --strict --no-tree --terse \
		--ignore FILE_PATH_CHANGES \
		-f $(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h) \
		include/uapi/linux/vportx.h
	perl $(BUILD)/ksrc/scripts/checkpatch.pl --no-tree --terse \
		--ignore FILE_PATH_CHANGES \
		-f $(wildcard userspace/*.[ch] userspace/tests/*.c userspace/fuzz/*.c)
	perl $(BUILD)/ksrc/scripts/checkpatch.pl --no-tree --terse \
		--ignore FILE_PATH_CHANGES,PREFER_DEFINED_ATTRIBUTE_MACRO \
		-f $(wildcard selftests/rig/peer/*.[ch])
	scripts/cocci

# Installed files. Into the running system (no DESTDIR), scripts/post-install
# then runs depmod and has udev attach the ports already there. What a
# user's machine lacks never stands in the way: the module is built without
# W=1 and sparse, vportxctl without -Werror (WERROR=0).
KO := kmod/vportx.ko
KO_SRC := Kbuild kmod/Kbuild include/uapi/linux/vportx.h \
	$(filter-out %.mod.c,$(wildcard kmod/*.[ch]))
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

# Built only when out of date: kbuild itself is slow to run at all in a
# guest under TCG, where the tests install. Plain kbuild, not `make
# module`: that one is the developers' build (W=1, sparse, warnings fail).
$(KO): $(KO_SRC)
	@test -n "$(KVER)" || { echo "make: no kernel headers: set KVER, or install linux-headers-$$(uname -r)" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

install: $(KO) install-tools
	install -D -m 0644 $(KO) $(DESTDIR)/lib/modules/$(KVER)/extra/vportx.ko
	install -D -m 0644 include/uapi/linux/vportx.h \
		$(DESTDIR)$(PREFIX)/include/linux/vportx.h
	test -n "$(DESTDIR)" || scripts/post-install $(KVER)

# User space alone, as the vportx-tools package ships it (debian/rules):
# vportxctl, its man page and bash completion, the udev rules, the default
# policy.
install-tools: | $(BUILD)
	$(MAKE) -C userspace install WERROR=0 DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	install -d $(DESTDIR)$(UDEVRULESDIR)
	sed 's|@VPORTXCTL@|$(PREFIX)/sbin/vportxctl|g' udev/60-vportx.rules.in \
		>$(DESTDIR)$(UDEVRULESDIR)/60-vportx.rules
	install -D -m 0644 userspace/policy/policy.conf \
		$(DESTDIR)$(PREFIX)/lib/vportx/policy.conf
	install -D -m 0644 $(BUILD)/vportxctl.8 \
		$(DESTDIR)$(MANDIR)/man8/vportxctl.8
	install -D -m 0644 userspace/vportxctl.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/vportxctl

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KVER)/extra/vportx.ko
	$(MAKE) -C userspace uninstall DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	rm -f $(DESTDIR)$(PREFIX)/include/linux/vportx.h \
		$(DESTDIR)$(UDEVRULESDIR)/60-vportx.rules \
		$(DESTDIR)$(PREFIX)/lib/vportx/policy.conf \
		$(DESTDIR)$(MANDIR)/man8/vportxctl.8 \
		$(DESTDIR)$(BASHCOMPDIR)/vportxctl
	-rmdir $(DESTDIR)$(PREFIX)/lib/vportx 2>/dev/null
	test -n "$(DESTDIR)" || scripts/post-install $(KVER)

# DKMS: the module's sources under /usr/src/vportx-VERSION, built and
# installed for KVER (and by DKMS for every kernel installed later). Their
# dkms.conf is made from dkms.conf.in with VERSION, kmod/version.h's: the
# version is written down there only. dkms-src installs the sources alone
# (debian/rules: dh_dkms installs $(BUILD)/dkms.conf itself).
DKMS_SRC := $(DESTDIR)/usr/src/vportx-$(VERSION)
DKMS_FILES := Kbuild $(filter-out %.mod.c,$(wildcard kmod/*.[ch])) kmod/Kbuild \
	include/uapi/linux/vportx.h

$(BUILD)/dkms.conf: dkms.conf.in kmod/version.h | $(BUILD)
	sed 's|@VERSION@|$(VERSION)|g' dkms.conf.in >$@

dkms-src: $(BUILD)/dkms.conf
	install -d $(DKMS_SRC)
	tar -cf - $(DKMS_FILES) | tar -xf - --no-same-owner -C $(DKMS_SRC)

dkms-install: dkms-src
	install -m 0644 $(BUILD)/dkms.conf $(DKMS_SRC)/dkms.conf
	dkms add -m vportx -v $(VERSION)
	dkms install -m vportx -v $(VERSION) -k $(KVER)

dkms-uninstall:
	-dkms remove -m vportx -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

# DKMS builds the module from a copy of what dkms-install installs, in
# trees of its own under build/: nothing of the system's is touched.
check-dkms: deps
	rm -rf $(BUILD)/dkms && mkdir -p $(BUILD)/dkms/src/vportx-$(VERSION) \
		$(BUILD)/dkms/tree
	tar -cf - $(DKMS_FILES) | \
		tar -xf - -C $(BUILD)/dkms/src/vportx-$(VERSION)
	sed 's|@VERSION@|$(VERSION)|g' dkms.conf.in \
		>$(BUILD)/dkms/src/vportx-$(VERSION)/dkms.conf
	dkms build -m vportx -v $(VERSION) -k $(KVER) \
		--sourcetree $(BUILD)/dkms/src --dkmstree $(BUILD)/dkms/tree
	test -f $(BUILD)/dkms/tree/vportx/$(VERSION)/$(KVER)/x86_64/module/vportx.ko*
	@echo "check-dkms: vportx $(VERSION) built by DKMS for $(KVER)"
	@dkms build -m vportx -v $(VERSION) -k 5.15.0-1-amd64 \
		--kernelsourcedir $(KDIR) --sourcetree $(BUILD)/dkms/src \
		--dkmstree $(BUILD)/dkms/tree >$(BUILD)/dkms/old.log 2>&1; \
		rc=$$?; [ $$rc -eq 77 ] && grep -q BUILD_EXCLUSIVE $(BUILD)/dkms/old.log || \
		{ cat $(BUILD)/dkms/old.log; echo "check-dkms: DKMS did not refuse 5.15 (exit $$rc)" >&2; exit 1; }
	@echo "check-dkms: DKMS refuses 5.15 (BUILD_EXCLUSIVE_KERNEL)"

# Debian packages, vportx-dkms and vportx-tools (Documentation/packaging.rst),
# built by dpkg-buildpackage in a copy of the tracked files (as they are in
# the working tree) in $(DEB_OUT)/vportx-VERSION: the source tree stays
# clean. The .debs, .changes and .buildinfo are left in $(DEB_OUT), the
# copy is removed when the build succeeds; lintian then fails the target
# on any tag, pedantic ones included. PKG_VERSION=V builds the copy
# as version V instead (its kmod/version.h and the top debian/changelog
# entry rewritten, nothing else): make check-deb's "previous" version for
# the upgrade. The package build gets nothing of this make's variables.
DEB_OUT ?= $(BUILD)/deb
PKG_VERSION ?= $(VERSION)
DEB_COPY := $(DEB_OUT)/vportx-$(PKG_VERSION)
deb:
	scripts/deps deb
	rm -rf $(DEB_OUT) && mkdir -p $(DEB_COPY)
	git ls-files -z | tar --null -T - -cf - | tar -xf - -C $(DEB_COPY)
ifneq ($(PKG_VERSION),$(VERSION))
	sed -i 's/^\(#define VPORTX_VERSION \)".*"/\1"$(PKG_VERSION)"/' \
		$(DEB_COPY)/kmod/version.h
	sed -i '1s/^vportx ([^)]*)/vportx ($(PKG_VERSION))/' \
		$(DEB_COPY)/debian/changelog
endif
	cd $(DEB_COPY) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u KVER -u BUILD \
		dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -n 30 $(DEB_OUT)/build.log; \
		echo "deb: dpkg-buildpackage failed, log in $(DEB_OUT)/build.log" >&2; exit 1; }
	rm -rf $(DEB_COPY)
	lintian -i -I --pedantic --fail-on error,warning,info,pedantic \
		$(DEB_OUT)/vportx_$(PKG_VERSION)_*.changes
	@ls -l $(DEB_OUT)

# The packages' whole life in a throwaway copy of a Debian 13 root that
# has dkms and kernel headers (VPORTX_DEB_ROOT; it is never modified):
# install of a previous version (0.0.9), upgrade to this one, remove,
# purge, and nothing left (scripts/check-deb).
VPORTX_DEB_ROOT ?=
check-deb:
	@test -n "$(VPORTX_DEB_ROOT)" || { echo "check-deb: set VPORTX_DEB_ROOT to a Debian 13 root with dkms and linux-headers-amd64" >&2; exit 1; }
	$(MAKE) deb PKG_VERSION=0.0.9 DEB_OUT=$(BUILD)/deb-prev
	$(MAKE) deb
	scripts/check-deb --prev $(BUILD)/deb-prev --cur $(BUILD)/deb $(VPORTX_DEB_ROOT)

# vportx as a user gets it (Documentation/guest.rst): a Debian 13 guest
# made by scripts/guest-image (cached), `make install` without sparse and
# the packages' whole life in overlays of its tree, then the guest booted
# by systemd from its own disk, the packages installed with apt, a reboot
# and selftests/image/guest_test (scripts/check-guest). SUITE=sid: a sid
# guest instead (its 7.2 kernel, systemd and qemu-guest-agent).
check-guest: deps
	scripts/deps guest deb
	$(MAKE) userspace selftests
	$(MAKE) deb PKG_VERSION=0.0.9 DEB_OUT=$(BUILD)/deb-prev
	$(MAKE) deb
	SUITE=$(or $(SUITE),trixie) scripts/check-guest

# By hand, not CI: the Debian 13 guest's kernel upgraded to trixie-
# backports' with vportx-dkms installed; DKMS builds vportx for it, the
# guest boots it and guest_test runs there (scripts/check-upgrade,
# Documentation/guest.rst, "Kernel upgrade").
check-upgrade: deps
	scripts/deps guest deb
	$(MAKE) userspace selftests
	$(MAKE) deb
	scripts/check-upgrade

# The real guest's whole life, driven from the host as libvirt drives it
# (Documentation/guest.rst): shared/seeds 004 through the agent, suspend
# to RAM, hybrid and to disk, reboot, live migration, powerdown and halt,
# on both backends, a checksummed transfer after each (scripts/check-life).
# By hand: 9 minutes alone on the machine here, more with other guests
# beside it; more than CI has left.
check-life: deps
	scripts/deps guest deb
	$(MAKE) deb
	SUITE=$(or $(SUITE),trixie) scripts/check-life

# vportx-dkms under UEFI Secure Boot: the guest of check-guest booted by
# OVMF, shim and grub with DKMS's key enrolled as a MOK, vportx installed
# with apt, signed by DKMS and loaded by the locked-down kernel
# (scripts/check-secure-boot, Documentation/secure-boot.rst). By hand,
# not in CI.
check-secure-boot: deps
	scripts/deps guest deb secure-boot
	$(MAKE) userspace selftests
	$(MAKE) deb
	scripts/check-secure-boot

clean:
	test -z "$(KVER)" || $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C userspace clean
	rm -rf $(BUILD)
