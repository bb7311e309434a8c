# SPDX-License-Identifier: GPL-2.0
#
# ipvtap: out-of-tree ipvlan re-implementation + ipvtap.
#
#   make                 build ipvlan/ipvlan.ko (and ipvtap/ipvtap.ko) for the
#                        running kernel (/lib/modules/$(uname -r)/build) + tools
#                        (tools/ipvlanctl/ipvlanctl, test tools)
#   make KDIR=/path      build against another kernel build tree
#   make install         modules_install into /lib/modules/<release>/updates/
#                        (which takes precedence over the kernel's own
#                        ipvlan/ipvtap) + depmod; uninstall removes them
#   make deps            install the Debian packages everything below needs
#   make kernels         fetch the test kernels (6.12, 7.3) into the cache
#                        (tools/kernels.sh; make deps does it too)
#   make check           build for KERNEL_SERIES's kernel, boot it in a QEMU
#                        guest, run tests/ inside it
#   make check-debug     the same on a debug kernel (KASAN, lockdep, kmemleak,
#                        UBSAN, refcount trackers: tools/debug-kernel.config),
#                        built once by tools/debug-kernel.sh and cached in
#                        ${IPVTAP_CACHE:-/var/cache/ipvtap}; the modules are
#                        built against it in .cache/debug-modules/
#   make check-config    the build options (Kconfig): modules built with
#                        CONFIG_IPVTAP_IPVLAN_L3S=n refuse l3s in a guest
#   make check-harness   the harness fails fast on a hang: a test-only module
#                        hangs a guest on purpose (tests/harness/hang.sh);
#                        the guest holds the static keys tests would flip
#                        (tests/harness/static_keys.sh, a 7.3 guest)
#   make dkms-deb        the DKMS package (.cache/dkms/ipvtap-dkms_*.deb)
#   make check-dkms      install it in a guest of KERNEL_SERIES: DKMS builds,
#                        modprobe loads ours, core tests pass
#   make demo            build, boot a QEMU guest (6.1 unless KERNEL_SERIES is
#                        given): a nested VM behind ipvtap, then ipvlan slaves
#   make vm              interactive shell in the QEMU guest, modules loaded
#   make lint            checkpatch --strict, sparse (C=2) and W=1 builds for
#                        every kernel series
#   make soak            mode/flag, slave and namespace churn under traffic
#                        for minutes to an hour on a loaded host, not in CI
#                        (tools/soak.sh; SOAK_ARGS="--minutes 30 --debug")
#   make interop         the clients users drive ipvlan with (CNI plugin,
#                        systemd-networkd, Docker) and the kernel's own
#                        tap/ipvtap selftests from linux-source-<X.Y>, in a
#                        QEMU guest of KERNEL_SERIES (tools/interop.sh,
#                        tests/interop/; fetches that kernel's linux-source
#                        once)
#   make bench           ours vs in-tree ipvlan/ipvtap and the alternatives
#                        in one QEMU guest (tools/bench/run.sh): Markdown
#                        table on stdout, JSON + PNG plots in bench-results/
#   make clean
#
# Pass-through variables:
#   KERNEL_SERIES=6.1|6.12|7.3  the Debian kernel the test targets (check,
#                        diffcheck, interop, demo, vm, bench) boot and build the
#                        modules for, in .cache/build-<release>/ (default
#                        6.12, Debian 13's; tools/kernels.sh)
#   IMPL=ours|in-tree    which ipvlan the guest loads (default: ours)
#   KERNEL=/path/bzImage another guest kernel for the test targets; then
#   KDIR=/path           must be its build tree and
#   MODULES_DIR=/path    its modules (.../lib/modules/<release>)
#   TESTS="a b"          subset of tests/*.sh to run (default: all); for
#                        make interop, of tests/interop/*.sh
#   QEMU_PARTS="..."     make check: the parts of tests/ipvtap_qemu.sh to run
#                        (default all; "guestless edges": no nested boots)
#   TEST_ENV="V=x ..."   make check: environment of tests/run in the guest
#   IPVLAN_MODPARAMS="arp_filter=0"  parameters of insmod for our ipvlan.ko
#                        in the guest (check, diffcheck, vm: tools/vm/run)
#                        (e.g. STRESS_SECONDS=20)
#   VM_TIMEOUT=SEC       kill the guest after SEC seconds (check: 2700)
#   make diffcheck       run the tests against the in-tree ipvlan and ours
#                        (two boots) and list every difference
#   DEBUG_VM_TIMEOUT=SEC, DEBUG_TEST_TIMEOUT=SEC  the same for check-debug
#                        (whole guest / each test)
#   BENCH_ARGS="..."     options of tools/bench/run.sh (e.g. --quick)

KDIR ?= /lib/modules/$(shell uname -r)/build
KERNEL_SERIES ?= 6.12
IMPL ?= ours
KERNEL ?=
MODULES_DIR ?=
TESTS ?=
VM_TIMEOUT ?=
# The whole suite needs more than tools/vm/run's default on a busy machine.
CHECK_VM_TIMEOUT ?= 2700

CC ?= cc
TOOLS_CFLAGS := -O2 -g -Wall -Wextra -Werror
# tools/lib: netlink and checksum helpers shared by the C tools.
TOOLS_LIB := tools/lib/nl.c tools/lib/csum.c
TOOLS_LIB_DEPS := $(TOOLS_LIB) tools/lib/nl.h tools/lib/csum.h
TEST_TOOLS := tools/testing/ipvl_newlink tools/testing/ipvl_nlfuzz \
	tools/testing/ipvl_badframes tools/tapguest/tapguest
TOOLS := tools/ipvlanctl/ipvlanctl
BENCH_TOOLS := tools/bench/pktflood
BENCH_ARGS ?=
SOAK_ARGS ?=

VM_ARGS := --impl $(IMPL) \
	$(if $(KERNEL),--kernel $(KERNEL)) \
	$(if $(MODULES_DIR),--modules-dir $(MODULES_DIR)) \
	$(if $(VM_TIMEOUT),--timeout $(VM_TIMEOUT))

# The test targets build the modules for their guest kernel out of tree,
# in .cache/build-<release>/; a recipe line
#   args=$$($(BUILD_FOR_VM)) && tools/vm/run $$args $(VM_ARGS) ...
# gets "--kernel K --modules-dir M --ko-dir D" (KERNEL/MODULES_DIR, when
# given, come later in VM_ARGS and win).
BUILD_FOR_VM = tools/build-modules.sh \
	$(if $(KERNEL),--kdir $(KDIR),--series $(KERNEL_SERIES)) --vm-args

DEBUG_VM_TIMEOUT ?= 5400
DEBUG_TEST_TIMEOUT ?= 1200
# Nested QEMU boots (tests/ipvtap_qemu.sh "booted") take too long on it.
DEBUG_QEMU_PARTS ?= guestless edges
DEBUG_MODS := $(CURDIR)/.cache/debug-modules
# The interop tests drive the same netlink requests as the core tests
# through other programs (minutes each on the debug kernel): not there.
DEBUG_SKIP ?= interop_cni interop_networkd
# In CI the suite outlasts the debug guest's time (RUN_BUDGET): these run
# last, so that what the budget does not reach is these long ones, whose
# paths other tests cross too (the ARP filter's 20 cases, every mode x
# flag, 60 s of address fights), not the tap tests at the end of the
# alphabet (the tap socket's locks: where the debug kernel found bugs).
DEBUG_LAST ?= ipvlan_arpf ipvlan_matrix ipvlan_addr_stress
DEBUG_ALL = $(filter-out $(DEBUG_SKIP) lib lib_%,$(basename $(notdir $(wildcard tests/*.sh))))
DEBUG_TESTS = $(filter-out $(DEBUG_LAST),$(DEBUG_ALL)) \
	$(foreach t,$(DEBUG_LAST),$(filter $(t),$(DEBUG_ALL)))

.PHONY: all modules tools clean deps kernels dkms-deb check-dkms check check-config check-harness check-debug diffcheck demo vm lint kdir-check bench soak install uninstall interop

all: modules tools

kdir-check:
	@if [ -z "$(KDIR)" ] || [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "error: no kernel build tree in KDIR='$(KDIR)': install the headers of the running kernel (apt install linux-headers-$$(uname -r)) or pass KDIR=/lib/modules/<release>/build" >&2; \
		exit 1; \
	fi

# tools/kbuild-compat.sh: what a kernel built with a compiler this machine
# lacks (or without pahole here) needs; nothing on a matching host.
modules: kdir-check
	$(MAKE) -C $(KDIR) M=$(CURDIR) $$(tools/kbuild-compat.sh $(KDIR)) modules

# Release of KDIR, for install/uninstall.
KRELEASE = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
INSTALL_MOD_DIR ?= updates
INSTALLED_KOS = $(INSTALL_MOD_PATH)/lib/modules/$(KRELEASE)/$(INSTALL_MOD_DIR)/ipvlan/ipvlan.ko \
	$(INSTALL_MOD_PATH)/lib/modules/$(KRELEASE)/$(INSTALL_MOD_DIR)/ipvtap/ipvtap.ko

# modules_install puts them in updates/ipvlan/ and updates/ipvtap/; depmod
# searches updates/ before the kernel's own tree, so modprobe ipvlan loads
# ours (check with: modinfo -F filename ipvlan).
install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) $$(tools/kbuild-compat.sh $(KDIR)) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) modules_install
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) -a $(KRELEASE)

uninstall: kdir-check
	rm -f $(foreach k,$(INSTALLED_KOS),$(k) $(k).xz $(k).zst $(k).gz)
	-rmdir $(dir $(INSTALLED_KOS)) 2>/dev/null
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) -a $(KRELEASE)

tools: $(TEST_TOOLS) $(TOOLS) $(BENCH_TOOLS)

tools/testing/%: tools/testing/%.c include/uapi/ipvlan_ext.h $(TOOLS_LIB_DEPS)
	$(CC) $(TOOLS_CFLAGS) -Iinclude -Itools/lib -o $@ $< $(TOOLS_LIB)

tools/tapguest/%: tools/tapguest/%.c $(TOOLS_LIB_DEPS)
	$(CC) $(TOOLS_CFLAGS) -Itools/lib -o $@ $< $(TOOLS_LIB)

tools/bench/%: tools/bench/%.c $(TOOLS_LIB_DEPS)
	$(CC) $(TOOLS_CFLAGS) -Itools/lib -o $@ $< $(TOOLS_LIB)

tools/ipvlanctl/ipvlanctl: tools/ipvlanctl/ipvlanctl.c include/uapi/ipvlan_ext.h $(TOOLS_LIB_DEPS)
	$(CC) $(TOOLS_CFLAGS) -Iinclude -Itools/lib -o $@ $< $(TOOLS_LIB)

clean:
	@if [ -n "$(KDIR)" ] && [ -f "$(KDIR)/Makefile" ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) clean; \
	fi
	rm -f $(TEST_TOOLS) $(TOOLS) $(BENCH_TOOLS)
	rm -rf .cache/build-* .cache/lint-*

deps:
	tools/deps.sh
	tools/kernels.sh fetch

kernels:
	tools/kernels.sh fetch

# deps runs first and in its own make so that KDIR is computed after the
# headers are installed on a fresh machine.
check: deps
	$(MAKE) tools
	args=$$($(BUILD_FOR_VM)) && \
	tools/vm/run $$args $(VM_ARGS) $(if $(VM_TIMEOUT),,--timeout $(CHECK_VM_TIMEOUT)) --summary -- \
		env $(if $(QEMU_PARTS),"IPVTAP_QEMU_PARTS=$(QEMU_PARTS)") $(TEST_ENV) tests/run $(TESTS)

# The build options (Kconfig, Kbuild): the modules built without L3S
# (CONFIG_IPVTAP_IPVLAN_L3S=n, as for a kernel without netfilter or L3
# master devices) refuse mode l3s with an extack message; l2 still works.
check-config: deps
	$(MAKE) tools
	args=$$(tools/build-modules.sh --series $(KERNEL_SERIES) \
		--out $(CURDIR)/.cache/build-nol3s-$(KERNEL_SERIES) --vm-args -- \
		CONFIG_IPVTAP_IPVLAN_L3S=n) && \
	tools/vm/run $$args $(VM_ARGS) --summary -- \
		env IPVTAP_EXPECT_L3S=0 tests/run ipvlan_l3s_config ipvlan_l2_basic

# The DKMS package (.cache/dkms/ipvtap-dkms_<version>_all.deb), and its
# proof: installed with dpkg in a guest of KERNEL_SERIES, DKMS builds the
# modules, modprobe loads ours, core tests pass (tools/dkms-check.sh).
dkms-deb:
	tools/dkms-deb.sh

check-dkms: deps
	$(MAKE) tools
	tools/dkms-check.sh --series $(KERNEL_SERIES)

# Host-side tests of tools/vm/run itself (tests/harness/run): two short
# boots of the host's own 6.1 kernel (tools/vm/run's default) unless
# KERNEL/KDIR say otherwise, then one 7.3 boot of about three minutes.
check-harness: deps
	KDIR=$(if $(filter command line,$(origin KDIR)),$(KDIR),$$(tools/kernels.sh kdir 6.1)) \
		$(if $(KERNEL),KERNEL=$(KERNEL)) \
		$(if $(MODULES_DIR),MODULES_DIR=$(MODULES_DIR)) tests/harness/run

diffcheck: deps
	$(MAKE) tools
	args=$$($(BUILD_FOR_VM)) && \
	tools/diffcheck.sh --no-build $(if $(TESTS),--tests "$(TESTS)") -- $$args \
		$(if $(KERNEL),--kernel $(KERNEL)) \
		$(if $(MODULES_DIR),--modules-dir $(MODULES_DIR)) \
		--timeout $(if $(VM_TIMEOUT),$(VM_TIMEOUT),$(CHECK_VM_TIMEOUT))

# The debug kernel needs more guest memory (KASAN shadow, kmemleak) and
# runs everything several times slower: time limits the tests assert are
# tripled (IPVTAP_TIME_SCALE), and the tests get the guest's time less
# 300 s (boot, the final kmemleak scan) as RUN_BUDGET (tests/run): what
# does not fit is skipped and said, instead of a timeout. It has no
# in-tree ipvlan.
# pci=noacpi: under KASAN+TCG, QEMU's ACPI _PRT method hits the AML loop
# timeout (30 s per PCI device, 2 minutes a boot); virtio uses MSI-X anyway.
check-debug: deps
	$(MAKE) tools
	tools/debug-kernel.sh build
	tools/debug-kernel.sh modules $(DEBUG_MODS)
	tools/vm/run $$(tools/debug-kernel.sh vm-args) --impl ours \
		--ko-dir $(DEBUG_MODS) --mem 3072 --append pci=noacpi \
		--timeout $(DEBUG_VM_TIMEOUT) \
		--summary -- env TEST_TIMEOUT=$(DEBUG_TEST_TIMEOUT) \
		"IPVTAP_QEMU_PARTS=$(DEBUG_QEMU_PARTS)" STRESS_SECONDS=20 \
		IPVTAP_TIME_SCALE=3 \
		RUN_BUDGET=$$(($(DEBUG_VM_TIMEOUT) - 300)) \
		tests/run $(or $(TESTS),$(DEBUG_TESTS))

# The demo's nested guest boots a kernel of the VM's /boot, the host's: 6.1
# unless KERNEL_SERIES is given.
demo: KERNEL_SERIES = 6.1
demo: deps
	$(MAKE) tools
	args=$$($(BUILD_FOR_VM)) && tools/vm/run $$args $(VM_ARGS) -- tools/demo.sh

# Real clients and the kernel's selftests (tests/interop/): Docker's daemon
# and image import alone take minutes in a TCG guest, so not in make check
# (tests/interop_{cni,networkd}.sh are).
INTEROP_VM_TIMEOUT ?= 2700
interop: deps
	$(MAKE) tools
	args=$$($(BUILD_FOR_VM)) && \
	tools/interop.sh $(if $(KERNEL),,--series $(KERNEL_SERIES)) \
		$(if $(TESTS),--tests "$(TESTS)") -- $$args $(VM_ARGS) \
		$(if $(VM_TIMEOUT),,--timeout $(INTEROP_VM_TIMEOUT))

# Benchmarks time things; make check does not.
bench: deps
	$(MAKE) tools
	args=$$($(BUILD_FOR_VM)) && tools/bench/run.sh $$args \
		$(if $(KERNEL),--kernel $(KERNEL)) \
		$(if $(MODULES_DIR),--modules-dir $(MODULES_DIR)) $(BENCH_ARGS)

# Not in CI: minutes to an hour (tools/soak.sh --help).
# (--debug picks the debug kernel and its modules itself.)
soak: deps
	$(MAKE) tools
	args=; case " $(SOAK_ARGS) " in *" --debug "*) ;; *) args=$$($(BUILD_FOR_VM)) || exit 1 ;; esac; \
	tools/soak.sh --impl $(IMPL) $(SOAK_ARGS) $${args:+-- $$args}

vm: tools
	args=$$($(BUILD_FOR_VM)) && tools/vm/run $$args $(VM_ARGS) --shell

# Every series, or the KDIR given on the command line.
lint: deps
	tools/lint.sh $(if $(filter command line,$(origin KDIR)),--kdir $(KDIR))
