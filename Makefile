# SPDX-License-Identifier: GPL-2.0
#
# ipvtap: out-of-tree ipvlan re-implementation + ipvtap.
#
#   make                 build ipvlan/ipvlan.ko (and ipvtap/ipvtap.ko) + tools
#                        (tools/ipvlanctl/ipvlanctl, test tools)
#   make KDIR=/path      build against another kernel build tree
#   make deps            install the Debian packages everything below needs
#   make check           build, boot a QEMU guest, run tests/ inside it
#   make demo            build, boot a QEMU guest, show ipvlan slaves talking
#   make vm              interactive shell in the QEMU guest, modules loaded
#   make lint            checkpatch --strict, sparse (C=2) and W=1 builds
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
TEST_TOOLS := tools/testing/ipvl_newlink tools/tapguest/tapguest
TOOLS := tools/ipvlanctl/ipvlanctl

VM_ARGS := --impl $(IMPL) \
	$(if $(KERNEL),--kernel $(KERNEL)) \
	$(if $(MODULES_DIR),--modules-dir $(MODULES_DIR)) \
	$(if $(VM_TIMEOUT),--timeout $(VM_TIMEOUT))

.PHONY: all modules tools clean deps check diffcheck demo vm lint kdir-check

all: modules tools

kdir-check:
	@if [ -z "$(KDIR)" ] || [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "error: no kernel build tree (KDIR='$(KDIR)'); run 'make deps' or pass KDIR=/lib/modules/<release>/build" >&2; \
		exit 1; \
	fi

modules: kdir-check
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools: $(TEST_TOOLS) $(TOOLS)

tools/testing/%: tools/testing/%.c
	$(CC) $(TOOLS_CFLAGS) -o $@ $<

tools/tapguest/%: tools/tapguest/%.c
	$(CC) $(TOOLS_CFLAGS) -o $@ $<

tools/ipvlanctl/ipvlanctl: tools/ipvlanctl/ipvlanctl.c include/uapi/ipvlan_ext.h
	$(CC) $(TOOLS_CFLAGS) -Iinclude -o $@ $<

clean:
	@if [ -n "$(KDIR)" ] && [ -f "$(KDIR)/Makefile" ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) clean; \
	fi
	rm -f $(TEST_TOOLS) $(TOOLS)

deps:
	tools/deps.sh

# deps runs first and in its own make so that KDIR is computed after the
# headers are installed on a fresh machine.
check: deps
	$(MAKE) all
	tools/vm/run $(VM_ARGS) $(if $(VM_TIMEOUT),,--timeout $(CHECK_VM_TIMEOUT)) --summary -- tests/run $(TESTS)

diffcheck: deps
	$(MAKE) all
	tools/diffcheck.sh --no-build $(if $(TESTS),--tests "$(TESTS)") -- \
		$(if $(KERNEL),--kernel $(KERNEL)) \
		$(if $(MODULES_DIR),--modules-dir $(MODULES_DIR)) \
		--timeout $(if $(VM_TIMEOUT),$(VM_TIMEOUT),$(CHECK_VM_TIMEOUT))

demo: deps
	$(MAKE) all
	tools/vm/run $(VM_ARGS) -- tools/demo.sh

vm: all
	tools/vm/run $(VM_ARGS) --shell

lint: deps
	tools/lint.sh $(if $(KDIR),--kdir $(KDIR))
