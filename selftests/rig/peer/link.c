// SPDX-License-Identifier: GPL-2.0
/*
 * A port's link to QEMU's socket: connecting without blocking, retrying
 * until QEMU listens, giving up at a deadline; a vsock port's handshake
 * with vhost-device-vsock; losing the link, and dropping it on request.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "port.h"
#include "qmp.h"

#define RETRY_MS	50
#define HANDSHAKE_MS	2	/* how often a vsock port looks for its OK */
#define VSOCK_REPLY_MAX	64	/* "OK PORT\n", with room to spare */

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

/*
 * Retry every RETRY_MS until the deadline: QEMU may not be listening yet,
 * nor a vsock port's guest program.
 */
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

/*
 * vhost-device-vsock reads "CONNECT PORT\n", asks the guest, and once the
 * guest accepted answers "OK " and a port number (0.3.0: PORT again;
 * Firecracker, whose protocol it is, sends the host side's); when nothing
 * listens on PORT (the guest resets the request) it closes the socket
 * instead. The main loop polls a connecting port for POLLOUT only, which
 * a unix socket always is: the answer is looked for every HANDSHAKE_MS.
 */
static void vsock_request(struct port *p)
{
	char req[32];
	int n = snprintf(req, sizeof(req), "CONNECT %u\n", p->vsock_port);
	ssize_t w = send(p->fd, req, n, MSG_NOSIGNAL);

	/* A new socket's empty buffer takes the whole line or nothing. */
	if (w != n) {
		port_close(p);
		connect_failed(p, w < 0 ? errno : EIO);
		return;
	}
	p->link = LINK_HANDSHAKE;
	p->retry_at = now_ms() + HANDSHAKE_MS;
}

/* Connected to QEMU's socket, or to vhost-device-vsock's. */
static void port_connected(struct port *p)
{
	if (p->be == BE_VSOCK)
		vsock_request(p);
	else
		port_up(p);
}

/*
 * The answer's line, @len bytes with its newline, taken and not a byte
 * more (the guest's data may follow it at once): 0 when it says OK.
 */
static int vsock_take_answer(struct port *p, char *line, size_t len)
{
	if (recv(p->fd, line, len, 0) != (ssize_t)len)
		return -EIO;
	line[len - 1] = '\0';
	logmsg("%s: CONNECT %u: %s", p->id, p->vsock_port, line);
	if (!strncmp(line, "OK", 2) && (line[2] == ' ' || !line[2]))
		return 0;
	return -EPROTO;
}

/* 0 once the answer was OK, -EAGAIN while it has not all come, or -errno. */
static int vsock_read_answer(struct port *p, uint64_t now)
{
	char line[VSOCK_REPLY_MAX];
	ssize_t n = recv(p->fd, line, sizeof(line) - 1, MSG_PEEK);
	char *nl = n > 0 ? memchr(line, '\n', n) : NULL;

	if (nl)
		return vsock_take_answer(p, line, nl + 1 - line);
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return -errno;
	if (!n)
		return -ECONNREFUSED;	/* nothing listens on the guest's port */
	if (n == sizeof(line) - 1)
		return -EPROTO;
	return now < p->deadline ? -EAGAIN : -ETIMEDOUT;
}

static void vsock_answer(struct port *p, uint64_t now)
{
	int err = vsock_read_answer(p, now);

	if (!err) {
		port_up(p);
	} else if (err == -EAGAIN) {
		p->retry_at = now + HANDSHAKE_MS;
	} else {
		port_close(p);
		connect_failed(p, -err);
	}
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
		port_connected(p);
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
		port_connected(p);
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
	} else if (p->link == LINK_HANDSHAKE && now >= p->retry_at) {
		vsock_answer(p, now);
	} else if (p->link == LINK_CONNECTING && now >= p->deadline) {
		port_close(p);
		connect_failed(p, ETIMEDOUT);
	}
}

uint64_t port_wakeup(const struct port *p)
{
	if (p->link == LINK_RETRY || p->link == LINK_HANDSHAKE)
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
