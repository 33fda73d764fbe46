// SPDX-License-Identifier: GPL-2.0
/*
 * Fast jobs (fastsink, fastsource): a host that is not the wall of what
 * the guest measures. The pattern of a stream is generated once and kept,
 * so a fast source sends from it, and a fast sink compares what comes with
 * it (memcmp, several GB/s here) instead of generating and hashing each
 * byte (the checked sink's FNV-1a runs at well under 1 GB/s). Both move
 * FAST_CHUNK per recv() or send(). The check is as strict as the checked
 * sink's: a stream equal to the pattern has the pattern's checksum, which
 * is what a fast sink reports; a stream that differs reports its first
 * differing byte, which fails the guest's check.
 */
#include <stdlib.h>
#include <string.h>

#include "pattern.h"
#include "port.h"

#define CACHED_MAX	8	/* streams kept: the benchmark uses few */

struct cached {
	uint64_t seed;
	uint64_t len;
	uint64_t hash;		/* FNV-1a 64 of all len bytes */
	char *data;
};

static struct cached cache[CACHED_MAX];
static unsigned int cache_next;

/* Is @data a running fast job's stream? */
static bool cached_in_use(const char *data)
{
	size_t i;

	for (i = 0; i < nports; i++)
		if (ports[i]->job.fast == data && job_running(ports[i]))
			return true;
	return false;
}

/* A slot for a new stream: the next one no running job reads from. */
static struct cached *cached_slot(void)
{
	struct cached *c;
	unsigned int i;

	for (i = 0; i < CACHED_MAX; i++) {
		c = &cache[cache_next++ % CACHED_MAX];
		if (!c->data || !cached_in_use(c->data))
			return c;
	}
	die(1, "fast job", "more than %d streams at once", CACHED_MAX);
}

/* The first @len bytes of @seed's stream and their checksum, cached. */
static const struct cached *pattern_cached(uint64_t seed, uint64_t len)
{
	struct cached *c;
	unsigned int i;

	for (i = 0; i < CACHED_MAX; i++)
		if (cache[i].data && cache[i].seed == seed &&
		    cache[i].len == len)
			return &cache[i];
	c = cached_slot();
	free(c->data);
	c->data = malloc(len ? len : 1);
	if (!c->data)
		die(1, "fast job", "no memory for %llu bytes",
		    (unsigned long long)len);
	pattern_fill(c->data, len, seed, 0);
	c->seed = seed;
	c->len = len;
	c->hash = fnv64_update(FNV64_INIT, c->data, len);
	return c;
}

void job_start_fast(struct port *p, enum job_kind kind, uint64_t nbytes,
		    uint64_t seed)
{
	const struct cached *c = pattern_cached(seed, nbytes);

	job_start(p, kind, nbytes, seed);
	p->job.fast = c->data;
	p->job.hash = c->hash;
}

/* A fast sink's bytes: compared, not hashed (see the top of the file). */
void fast_sink_feed(struct port *p, const char *data, size_t n)
{
	struct job *j = &p->job;
	const char *want = j->fast + j->pos;
	size_t i;

	if (j->bad < 0 && memcmp(data, want, n)) {
		for (i = 0; data[i] == want[i]; i++)
			;
		j->bad = j->pos + i;
		j->hash = 0;
	}
	j->pos += n;
}
