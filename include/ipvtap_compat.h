/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compatibility shims between the kernel versions ipvtap builds against:
 * Debian 6.1 first, 6.12 (bookworm-backports) later.
 */
#ifndef _IPVTAP_COMPAT_H
#define _IPVTAP_COMPAT_H

#include <linux/version.h>

/* struct class: namespace() takes a const device and owner is gone (6.4). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define IPVTAP_CLASS_NS_CONST	const
#define IPVTAP_CLASS_OWNER
#else
#define IPVTAP_CLASS_NS_CONST
#define IPVTAP_CLASS_OWNER	.owner = THIS_MODULE,
#endif

#endif /* _IPVTAP_COMPAT_H */
