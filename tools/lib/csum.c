// SPDX-License-Identifier: GPL-2.0
/* The Internet checksum of the C tools: see csum.h. */
#include "csum.h"

uint64_t csum_add(uint64_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len > 1) {
		sum += get16(b);
		b += 2;
		len -= 2;
	}
	if (len)
		sum += (uint16_t)(b[0] << 8);
	return sum;
}

uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}
