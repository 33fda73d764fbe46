// SPDX-License-Identifier: GPL-2.0
/*
 * A data port's job, one at a time: source (send the pattern), sink
 * (receive and check it), echo (send back what comes) and talk (send a
 * line, collect the answer's); and what each makes of the bytes.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pattern.h"
#include "port.h"

#define SOURCE_CHUNKS	16	/* pattern buffers written per wake-up */

bool job_running(const struct port *p)
{
	return p->job.kind != JOB_NONE && !p->job.done;
}

static void __printf(2, 3) job_finish(struct port *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->job.result, sizeof(p->job.result), fmt, ap);
	va_end(ap);
	p->job.done = true;
	logmsg("%s: job done: %s", p->id, p->job.result);
}

void job_fail(struct port *p, const char *why)
{
	if (job_running(p))
		job_finish(p, "%s", why);
}

/* Finish the job once its last byte went out or came in. */
static void job_progress(struct port *p)
{
	struct job *j = &p->job;

	if (j->done)
		return;
	if (j->kind == JOB_SOURCE && j->made == j->nbytes &&
	    !buf_used(&p->out))
		job_finish(p, "ok sent %" PRIu64, j->nbytes);
	else if (j->kind == JOB_SINK && j->pos == j->nbytes)
		job_finish(p, "ok received %" PRIu64 " %016" PRIx64 " %" PRId64,
			   j->nbytes, j->hash, j->bad);
}

void job_start(struct port *p, enum job_kind kind, uint64_t nbytes,
	       uint64_t seed)
{
	memset(&p->job, 0, sizeof(p->job));
	p->job.kind = kind;
	p->job.nbytes = nbytes;
	p->job.seed = seed;
	p->job.hash = FNV64_INIT;
	p->job.bad = -1;
	logmsg("%s: job started", p->id);
	job_progress(p);
}

/* reset: bytes not yet read stay in the socket for whoever comes next. */
void job_stop(struct port *p)
{
	memset(&p->job, 0, sizeof(p->job));
	buf_clear(&p->out);
	p->rx = 0;
	p->tx = 0;
}

/* Queue the next chunk of pattern; false once all of it was queued. */
static bool source_refill(struct port *p)
{
	struct job *j = &p->job;
	uint64_t left = j->nbytes - j->made;
	size_t n = left < BUF_SIZE ? left : BUF_SIZE;

	if (!n)
		return false;
	pattern_fill(p->out.data, n, j->seed, j->made);
	p->out.head = 0;
	p->out.len = n;
	j->made += n;
	return true;
}

/* Bounded per wake-up so one fast port does not starve the others. */
void source_pump(struct port *p)
{
	int i;

	if (p->job.fast) {
		fast_send(p);
		job_progress(p);
		return;
	}
	for (i = 0; i < SOURCE_CHUNKS && p->link == LINK_UP; i++) {
		if (!buf_used(&p->out) && !source_refill(p))
			break;
		if (!port_flush(p))
			break;
	}
	job_progress(p);
}

/* How many bytes the port's job takes now; 0 leaves them in the socket. */
size_t data_want(struct port *p)
{
	struct job *j = &p->job;
	uint64_t left = j->nbytes - j->pos;

	if (!job_running(p) || p->link != LINK_UP)
		return 0;
	if (j->kind == JOB_SINK && j->fast)
		return left < FAST_CHUNK ? left : FAST_CHUNK;
	if (j->kind == JOB_SINK)
		return left < BUF_SIZE ? left : BUF_SIZE;
	if (j->kind == JOB_TALK)
		return buf_make_room(&p->in);
	if (j->kind != JOB_ECHO)
		return 0;
	/* A datagram cannot be read in part: wait until all of out is free. */
	if (p->be == BE_UDP && buf_used(&p->out))
		return 0;
	return buf_make_room(&p->out);
}

static void sink_feed(struct port *p, const char *data, size_t n)
{
	struct job *j = &p->job;
	int64_t bad;

	if (j->bad < 0) {
		bad = pattern_check(data, n, j->seed, j->pos);
		if (bad >= 0)
			j->bad = j->pos + bad;
	}
	j->hash = fnv64_update(j->hash, data, n);
	j->pos += n;
	job_progress(p);
}

static void echo_feed(struct port *p, const char *data, size_t n)
{
	buf_append(&p->out, data, n);
	port_flush(p);
}

/* talk: collect the answer up to its newline, which ends the job. */
static void talk_feed(struct port *p, const char *data, size_t n)
{
	const char *line;
	size_t len;

	buf_append(&p->in, data, n);
	line = p->in.data + p->in.head;
	len = buf_used(&p->in);
	if (memchr(data, '\n', n)) {
		len = (const char *)memchr(line, '\n', len) - line;
		job_finish(p, "ok heard %zu %016" PRIx64, len,
			   fnv64_update(FNV64_INIT, line, len));
	} else if (!buf_make_room(&p->in)) {
		job_finish(p, "err no newline in %zu bytes", len);
	}
}

/* The bytes the job wanted (data_want()) have come. */
void job_feed(struct port *p, const char *data, size_t n)
{
	if (p->job.kind == JOB_SINK && p->job.fast) {
		fast_sink_feed(p, data, n);
		job_progress(p);
	} else if (p->job.kind == JOB_SINK) {
		sink_feed(p, data, n);
	} else if (p->job.kind == JOB_TALK) {
		talk_feed(p, data, n);
	} else {
		echo_feed(p, data, n);
	}
}
