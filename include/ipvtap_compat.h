/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compatibility shims between the kernel versions ipvtap builds against
 * (Debian 6.1 first, 6.12 later). Empty while 6.1 is the only target.
 */
#ifndef _IPVTAP_COMPAT_H
#define _IPVTAP_COMPAT_H

#include <linux/version.h>

#endif /* _IPVTAP_COMPAT_H */
