// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module, never shipped or installed: it hangs the kernel on
 * purpose so that tests/harness/hang.sh can prove that the VM harness
 * turns a hang into a fast failure with stack traces in the saved logs.
 * Debian's kernel has no CONFIG_TEST_LOCKUP, hence this.
 *
 *   insmod hang_inject.ko mode=spin    this CPU spins with preemption off
 *                                      (soft lockup, RCU stall)
 *   insmod hang_inject.ko mode=block   insmod sleeps uninterruptibly,
 *                                      forever (hung task)
 */

#include <linux/completion.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <linux/string.h>

static char *mode = "spin";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "spin (soft lockup, RCU stall) or block (hung task)");

static unsigned int seconds = 120;
module_param(seconds, uint, 0444);
MODULE_PARM_DESC(seconds, "how long spin mode spins");

static DECLARE_COMPLETION(hang_inject_never);

static noinline void hang_inject_spin(unsigned long until)
{
	preempt_disable();
	while (time_before(jiffies, until))
		cpu_relax();
	preempt_enable();
}

static noinline void hang_inject_block(void)
{
	/* Nobody ever completes it. */
	wait_for_completion(&hang_inject_never);
}

static int __init hang_inject_init(void)
{
	pr_warn("hang_inject: %s\n", mode);
	if (!strcmp(mode, "spin"))
		hang_inject_spin(jiffies + seconds * HZ);
	else if (!strcmp(mode, "block"))
		hang_inject_block();
	else
		return -EINVAL;
	/* Only reached when spin mode ran out: refuse to stay loaded. */
	return -EAGAIN;
}
module_init(hang_inject_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only: hang the kernel to test the VM harness");
