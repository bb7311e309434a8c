# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The kernel log patterns of a failed run, in one place: sourced by
# tools/vm/run (host side: the guest's saved dmesg and console) and by
# tests/lib.sh (guest side: dmesg_clean, after a test's own marker).

# Messages that mean the guest hangs (also in SPLAT_RE).
# shellcheck disable=SC2034 # used by the scripts that source this file
HANG_RE='BUG: soft lockup|rcu: INFO: .*detected stall|self-detected stall|blocked for more than [0-9]+ seconds'

# Any of these in the kernel log fails the run. Lockdep reports start
# with "WARNING:" or "BUG:"; the lockdep lines below are the ones that do
# not ("RCU lockdep checking is enabled" at boot is not a report).
# shellcheck disable=SC2034
SPLAT_RE='Oops|BUG:|WARNING:|detected stall|blocked for more than|KASAN|UBSAN:|lockdep is turned off|turning off the locking correctness validator|INFO: trying to register non-static key|possible circular locking|inconsistent lock state|suspicious RCU usage|refcount_t:|unreferenced object|general protection fault|Kernel panic|unregister_netdevice: waiting for'
