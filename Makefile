# SPDX-License-Identifier: GPL-2.0
#
# ipvtap: out-of-tree ipvlan re-implementation + ipvtap.
#
#   make                 build ipvlan/ipvlan.ko (and ipvtap/ipvtap.ko) + tools
#                        (tools/ipvlanctl/ipvlanctl, test tools)
#   make KDIR=/path      build against another kernel build tree
#   make deps            install the Debian packages everything below needs
#   make check           build, boot a QEMU guest, run tests/ inside it
#   make check-debug     the same on a debug kernel (KASAN, lockdep, kmemleak,
#                        UBSAN, refcount trackers: tests/config/debug.config),
#                        built once by tools/debug-kernel.sh and cached in
#                        ${IPVTAP_CACHE:-/var/cache/ipvtap}; the modules are
#                        built against it in .cache/debug-modules/
#   make check-harness   the harness fails fast on a hang: a test-only module
#                        hangs a guest on purpose (tests/harness/hang.sh)
#   make demo            build, boot a QEMU guest, show ipvlan slaves talking
#   make vm              interactive shell in the QEMU guest, modules loaded
#   make lint            checkpatch --strict, sparse (C=2) and W=1 builds
#   make soak            mode/flag, slave and namespace churn under traffic
#                        for minutes to an hour on a loaded host, not in CI
#                        (tools/soak.sh; SOAK_ARGS="--minutes 30 --debug")
#   make interop         the clients users drive ipvlan with (CNI plugin,
#                        systemd-networkd, Docker) and the kernel's own
#                        tap/ipvtap selftests from linux-source-<X.Y>, in a
#                        QEMU guest (tools/interop.sh, tests/interop/)
#   make bench           ours vs in-tree ipvlan/ipvtap and the alternatives
#                        in one QEMU guest (tools/bench/run.sh): Markdown
#                        table on stdout, JSON + PNG plots in bench-results/
#   make clean
#
# Pass-through variables:
#   IMPL=ours|in-tree    which ipvlan the guest loads (default: ours)
#   KERNEL=/path/bzImage guest kernel (default: newest /boot/vmlinuz-6.1.*-amd64)
#   MODULES_DIR=/path    modules of KERNEL (.../lib/modules/<release>)
#   TESTS="a b"          subset of tests/*.sh to run (default: all)
#   VM_TIMEOUT=SEC       kill the guest after SEC seconds (check: 2700)
#   make diffcheck       run the tests against the in-tree ipvlan and ours
#                        (two boots) and list every difference
#   DEBUG_VM_TIMEOUT=SEC, DEBUG_TEST_TIMEOUT=SEC  the same for check-debug
#                        (whole guest / each test)
#   BENCH_ARGS="..."     options of tools/bench/run.sh (e.g. --quick)

ifeq ($(origin KDIR),undefined)
KDIR := $(shell tools/kdir.sh 2>/dev/null)
endif

IMPL ?= ours
KERNEL ?=
MODULES_DIR ?=
TESTS ?=
VM_TIMEOUT ?=
# The whole suite needs more than tools/vm/run's default on a busy machine.
CHECK_VM_TIMEOUT ?= 2700

CC ?= cc
TOOLS_CFLAGS := -O2 -g -Wall -Wextra -Werror
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

DEBUG_VM_TIMEOUT ?= 5400
DEBUG_TEST_TIMEOUT ?= 1200
# Nested QEMU boots (tests/ipvtap_qemu.sh "booted") take too long on it.
DEBUG_QEMU_PARTS ?= guestless edges
DEBUG_MODS := $(CURDIR)/.cache/debug-modules

.PHONY: all modules tools clean deps check check-harness check-debug diffcheck demo vm lint kdir-check bench soak interop

all: modules tools

kdir-check:
	@if [ -z "$(KDIR)" ] || [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "error: no kernel build tree (KDIR='$(KDIR)'); run 'make deps' or pass KDIR=/lib/modules/<release>/build" >&2; \
		exit 1; \
	fi

modules: kdir-check
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools: $(TEST_TOOLS) $(TOOLS) $(BENCH_TOOLS)

tools/testing/%: tools/testing/%.c include/uapi/ipvlan_ext.h
	$(CC) $(TOOLS_CFLAGS) -Iinclude -o $@ $<

tools/tapguest/%: tools/tapguest/%.c
	$(CC) $(TOOLS_CFLAGS) -o $@ $<

tools/bench/%: tools/bench/%.c
	$(CC) $(TOOLS_CFLAGS) -o $@ $<

tools/ipvlanctl/ipvlanctl: tools/ipvlanctl/ipvlanctl.c include/uapi/ipvlan_ext.h
	$(CC) $(TOOLS_CFLAGS) -Iinclude -o $@ $<

clean:
	@if [ -n "$(KDIR)" ] && [ -f "$(KDIR)/Makefile" ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) clean; \
	fi
	rm -f $(TEST_TOOLS) $(TOOLS) $(BENCH_TOOLS)

deps:
	tools/deps.sh

# deps runs first and in its own make so that KDIR is computed after the
# headers are installed on a fresh machine.
check: deps
	$(MAKE) all
	tools/vm/run $(VM_ARGS) $(if $(VM_TIMEOUT),,--timeout $(CHECK_VM_TIMEOUT)) --summary -- tests/run $(TESTS)

# Host-side test of tools/vm/run itself (two short boots).
check-harness: deps
	KDIR=$(KDIR) $(if $(KERNEL),KERNEL=$(KERNEL)) \
		$(if $(MODULES_DIR),MODULES_DIR=$(MODULES_DIR)) tests/harness/hang.sh

diffcheck: deps
	$(MAKE) all
	tools/diffcheck.sh --no-build $(if $(TESTS),--tests "$(TESTS)") -- \
		$(if $(KERNEL),--kernel $(KERNEL)) \
		$(if $(MODULES_DIR),--modules-dir $(MODULES_DIR)) \
		--timeout $(if $(VM_TIMEOUT),$(VM_TIMEOUT),$(CHECK_VM_TIMEOUT))

# The debug kernel needs more guest memory (KASAN shadow, kmemleak) and
# runs everything several times slower. It has no in-tree ipvlan.
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
		"IPVTAP_QEMU_PARTS=$(DEBUG_QEMU_PARTS)" tests/run $(TESTS)

demo: deps
	$(MAKE) all
	tools/vm/run $(VM_ARGS) -- tools/demo.sh

# Real clients and the kernel's selftests (tests/interop/): Docker's daemon
# and image import alone take minutes in a TCG guest, so not in make check
# (tests/interop_{cni,networkd}.sh are).
INTEROP_VM_TIMEOUT ?= 2700
interop: deps
	$(MAKE) all
	tools/interop.sh -- $(VM_ARGS) $(if $(VM_TIMEOUT),,--timeout $(INTEROP_VM_TIMEOUT))

# Benchmarks time things; make check does not.
bench: deps
	$(MAKE) all
	tools/bench/run.sh $(if $(KERNEL),--kernel $(KERNEL)) \
		$(if $(MODULES_DIR),--modules-dir $(MODULES_DIR)) $(BENCH_ARGS)

# Not in CI: minutes to an hour (tools/soak.sh --help).
soak: deps
	$(MAKE) all
	tools/soak.sh --impl $(IMPL) $(SOAK_ARGS)

vm: all
	tools/vm/run $(VM_ARGS) --shell

lint: deps
	tools/lint.sh $(if $(KDIR),--kdir $(KDIR))
