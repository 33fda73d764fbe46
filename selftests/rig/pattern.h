// SPDX-License-Identifier: GPL-2.0
/*
 * The rig's deterministic data pattern and checksum.
 *
 * Shared by the host peer and the guest selftests, so both sides agree on
 * every byte without exchanging data out of band (Documentation/rig.rst).
 *
 * Byte i of the stream for SEED is byte i % 8, little-endian, of
 * splitmix64(SEED + i / 8). splitmix64() here is the standard splitmix64
 * step used as a pure function of its argument, not as a generator with
 * hidden state:
 *
 *	z = v + 0x9e3779b97f4a7c15;
 *	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
 *	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
 *	return z ^ (z >> 31);
 *
 * so any offset of the stream can be produced without generating what
 * comes before it. All arithmetic wraps modulo 2^64.
 *
 * The checksum is FNV-1a 64: start from FNV64_INIT, then for each byte
 * h ^= byte; h *= 0x100000001b3.
 *
 * Header-only, static inline, C99, no dependencies beyond libc.
 */
#ifndef VPORTX_RIG_PATTERN_H
#define VPORTX_RIG_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FNV64_INIT	0xcbf29ce484222325ULL
#define FNV64_PRIME	0x100000001b3ULL

static inline uint64_t splitmix64(uint64_t v)
{
	uint64_t z = v + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The pattern is defined little-endian whatever the host's byte order. */
static inline uint64_t pattern_le64(uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap64(v);
#else
	return v;
#endif
}

/* The 8 stream bytes of word w, in stream order, as one host word. */
static inline uint64_t pattern_word(uint64_t seed, uint64_t w)
{
	return pattern_le64(splitmix64(seed + w));
}

/* Fill buf with len bytes of the stream for seed, from byte offset on. */
static inline void pattern_fill(void *buf, size_t len, uint64_t seed,
				uint64_t offset)
{
	unsigned char *p = buf;
	uint64_t w = offset / 8;
	size_t skip = offset % 8;
	uint64_t v;

	/* Leading partial word: its bytes from skip on. */
	if (skip && len) {
		size_t n = 8 - skip < len ? 8 - skip : len;

		v = pattern_word(seed, w++);
		memcpy(p, (unsigned char *)&v + skip, n);
		p += n;
		len -= n;
	}
	/* Whole words; memcpy keeps unaligned buf legal and compiles to a store. */
	for (; len >= 8; len -= 8, p += 8) {
		v = pattern_word(seed, w++);
		memcpy(p, &v, 8);
	}
	if (len) {
		v = pattern_word(seed, w);
		memcpy(p, &v, len);
	}
}

/* Index of the first byte of a[0..n) that differs from b[0..n), or -1. */
static inline int64_t pattern_first_diff(const unsigned char *a,
					 const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return (int64_t)i;
	return -1;
}

/*
 * Compare buf with the stream for seed from byte offset on: the index in
 * buf of the first mismatching byte, or -1 when all len bytes match.
 */
static inline int64_t pattern_check(const void *buf, size_t len,
				    uint64_t seed, uint64_t offset)
{
	const unsigned char *p = buf;
	uint64_t w = offset / 8;
	size_t skip = offset % 8;
	size_t done = 0;
	int64_t bad;
	uint64_t v, got;

	if (skip && len) {
		size_t n = 8 - skip < len ? 8 - skip : len;

		v = pattern_word(seed, w++);
		bad = pattern_first_diff(p, (unsigned char *)&v + skip, n);
		if (bad >= 0)
			return bad;
		done = n;
	}
	for (; len - done >= 8; done += 8) {
		v = pattern_word(seed, w++);
		memcpy(&got, p + done, 8);
		if (got != v)
			return (int64_t)done +
			       pattern_first_diff(p + done,
						  (unsigned char *)&v, 8);
	}
	if (len > done) {
		v = pattern_word(seed, w);
		bad = pattern_first_diff(p + done, (unsigned char *)&v,
					 len - done);
		if (bad >= 0)
			return (int64_t)done + bad;
	}
	return -1;
}

/* Continue an FNV-1a 64 hash h (FNV64_INIT for a new one) over buf. */
static inline uint64_t fnv64_update(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

/* The FNV-1a 64 of the first len bytes of the stream for seed. */
static inline uint64_t pattern_hash(uint64_t seed, size_t len)
{
	unsigned char buf[4096];
	uint64_t h = FNV64_INIT, off = 0;
	size_t n;

	for (; len; len -= n, off += n) {
		n = len < sizeof(buf) ? len : sizeof(buf);
		pattern_fill(buf, n, seed, off);
		h = fnv64_update(h, buf, n);
	}
	return h;
}

#endif /* VPORTX_RIG_PATTERN_H */
