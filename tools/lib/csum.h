/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the C tools (tools/tapguest, tools/testing,
 * tools/bench): big-endian byte access and the Internet checksum.
 */
#ifndef IPVTAP_TOOLS_CSUM_H
#define IPVTAP_TOOLS_CSUM_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/*
 * Internet checksum (RFC 1071): csum_add() accumulates @len bytes at @p as
 * big-endian 16-bit words onto @sum (an odd last byte is the high byte of
 * a word: only the last piece of a sum may be odd); csum_fold() folds the
 * sum to 16 bits, not complemented (a header with a correct checksum
 * folds to 0xffff); csum() is the checksum to store: ~fold.
 */
uint64_t csum_add(uint64_t sum, const void *p, size_t len);
uint16_t csum_fold(uint64_t sum);

static inline uint16_t csum(const void *p, size_t len)
{
	return (uint16_t)~csum_fold(csum_add(0, p, len));
}

#endif
