// SPDX-License-Identifier: GPL-2.0
/*
 * The control port: reading requests in order, replying, and parking the
 * one request whose reply must wait (wait, connect, hotplug, unplug) until
 * its answer is known.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "port.h"

#define REQ_MAX		512	/* longest control request kept */

struct pending pend;

static void vreply(const char *fmt, va_list ap)
{
	char line[REPLY_MAX];
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);

	if (n < 0)
		n = snprintf(line, sizeof(line) - 1, "err internal");
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	logmsg("> %s", line);
	line[n++] = '\n';
	if (!buf_append(&ctl->out, line, n))
		logmsg("control output full, reply dropped");
	port_flush(ctl);
}

void reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(fmt, ap);
	va_end(ap);
}

/* Answer the parked request, which lets the next one in. */
void pending_reply(const char *fmt, ...)
{
	va_list ap;

	pend.kind = PEND_NONE;
	va_start(ap, fmt);
	vreply(fmt, ap);
	va_end(ap);
}

void park(enum pend_kind kind, struct port *p, uint64_t deadline)
{
	memset(&pend, 0, sizeof(pend));
	pend.kind = kind;
	pend.port = p;
	pend.deadline = deadline;
}

static void wait_check(void)
{
	struct port *p = pend.port;

	if (p->job.done)
		pending_reply("%s", p->job.result);
	else if (now_ms() >= pend.deadline)
		pending_reply("err timeout");
}

void connect_check(void)
{
	struct port *p = pend.port;

	if (p->link == LINK_UP)
		pending_reply("ok");
	else if (p->link == LINK_DOWN)
		pending_reply("err connect %s: %s", p->id, strerror(p->last_err));
}

void pending_check(void)
{
	switch (pend.kind) {
	case PEND_WAIT:
		wait_check();
		break;
	case PEND_CONNECT:
		connect_check();
		break;
	case PEND_HOTPLUG:
		hotplug_check();
		break;
	case PEND_UNPLUG:
		unplug_check();
		break;
	default:
		break;
	}
}

/* When the parked request gives up, UINT64_MAX if none is parked. */
uint64_t pending_deadline(void)
{
	return pend.kind != PEND_NONE ? pend.deadline : UINT64_MAX;
}

/* Serve requests in order while none is parked and a reply has room. */
void ctl_process(void)
{
	char line[REQ_MAX];

	while (!starting && pend.kind == PEND_NONE &&
	       buf_make_room(&ctl->out) >= REPLY_MAX &&
	       buf_line(&ctl->in, line, sizeof(line))) {
		logmsg("< %s", line);
		serve(line);
		pending_check();
	}
}
