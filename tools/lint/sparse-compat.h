/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Included first by make lint's sparse runs (CF=-include ...) on kernels
 * whose headers need a newer sparse than Debian's 0.6.4 (7.x: its
 * checker-valid.sh is not even packaged). Checker-only definitions; the
 * compiler never sees them.
 *
 * __typeof_unqual__: compiler_types.h uses it whenever __CHECKER__ is
 * defined; plain __typeof__ keeps the qualifiers, which costs sparse
 * nothing it checks in this code.
 *
 * __builtin_strlen: MODULE_INFO()'s static_assert() against embedded NULs
 * needs it as a constant; the compiler checks that assertion in the real
 * build.
 */
#define __typeof_unqual__(x)	__typeof__(x)
#define __builtin_strlen(s)	(sizeof(s) - 1)
