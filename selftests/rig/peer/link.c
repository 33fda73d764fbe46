// SPDX-License-Identifier: GPL-2.0
/*
 * A port's link to QEMU's socket: connecting without blocking, retrying
 * until QEMU listens, giving up at a deadline; losing the link, and
 * dropping it on request.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "port.h"
#include "qmp.h"

#define RETRY_MS	50

static void port_close(struct port *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static void port_up(struct port *p)
{
	int one = 1;

	p->link = LINK_UP;
	/* Control replies are small: don't let Nagle sit on them. */
	if (p->be == BE_TCP)
		setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (p->is_qmp)
		qmp_up();
	logmsg("%s: connected", p->id);
}

/* Retry every RETRY_MS until the deadline: QEMU may not be listening yet. */
static void connect_failed(struct port *p, int err)
{
	uint64_t now = now_ms();

	p->last_err = err;
	if (now + RETRY_MS <= p->deadline) {
		p->link = LINK_RETRY;
		p->retry_at = now + RETRY_MS;
		return;
	}
	p->link = LINK_DOWN;
	if (starting)
		die(2, p->id, "connect: %s", strerror(err));
	error_msg(p->id, "connect: %s", strerror(err));
}

static void port_connect_try(struct port *p)
{
	int fd = socket(p->addr.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0) {
		connect_failed(p, errno);
		return;
	}
	p->fd = fd;
	if (!connect(fd, (struct sockaddr *)&p->addr, p->addr_len)) {
		port_up(p);
	} else if (errno == EINPROGRESS) {
		p->link = LINK_CONNECTING;
	} else {
		err = errno;
		port_close(p);
		connect_failed(p, err);
	}
}

void port_connect_start(struct port *p, uint64_t ms)
{
	port_close(p);
	p->deadline = now_ms() + ms;
	p->last_err = 0;
	port_connect_try(p);
}

/* A non-blocking connect ended, one way or the other. */
void port_connect_done(struct port *p)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (!err) {
		port_up(p);
		return;
	}
	port_close(p);
	connect_failed(p, err);
}

void udp_open(struct port *p)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 ||
	    bind(fd, (struct sockaddr *)&p->local, sizeof(p->local)) < 0 ||
	    connect(fd, (struct sockaddr *)&p->addr, p->addr_len) < 0)
		die(2, p->id, "udp: %s", strerror(errno));
	p->fd = fd;
	p->link = LINK_UP;
}

void port_timer(struct port *p, uint64_t now)
{
	if (p->link == LINK_RETRY && now >= p->retry_at) {
		port_connect_try(p);
	} else if (p->link == LINK_CONNECTING && now >= p->deadline) {
		port_close(p);
		connect_failed(p, ETIMEDOUT);
	}
}

uint64_t port_wakeup(const struct port *p)
{
	if (p->link == LINK_RETRY)
		return p->retry_at;
	if (p->link == LINK_CONNECTING)
		return p->deadline;
	return UINT64_MAX;
}

void port_lost(struct port *p, const char *why)
{
	logmsg("%s: lost: %s", p->id, why);
	if (p->is_ctl) {
		logmsg("control port closed: exiting");
		exit(0);
	}
	/* The socket stays open until disconnect, connect or exit. */
	p->link = LINK_DOWN;
	if (p->is_qmp)
		qmp_lost();
	job_fail(p, "err disconnected");
}

/* udp has no connection: "disconnected" only means the peer stops using it. */
void port_disconnect(struct port *p)
{
	if (p->be != BE_UDP)
		port_close(p);
	p->link = LINK_DOWN;
	buf_clear(&p->out);
	job_fail(p, "err disconnected");
	logmsg("%s: disconnected", p->id);
}
