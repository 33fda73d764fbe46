// SPDX-License-Identifier: GPL-2.0
/*
 * Moving bytes between a port's queues and its socket: writing what is
 * queued, reading what a job wants, reading the lines of the control port
 * and QMP; an error or EOF loses the port.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* POLLRDHUP */
#endif
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "port.h"

#define UDP_MAX		1024	/* largest datagram the peer sends */
#define FAST_SENDS	16	/* per wake-up, so other ports get their turn */

/* A fast sink reads FAST_CHUNK at a time, every other job BUF_SIZE. */
static char scratch[FAST_CHUNK];

static bool send_failed(struct port *p, int err)
{
	/* A refused udp datagram only means QEMU is not bound yet: resend. */
	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
	    (p->be == BE_UDP && err == ECONNREFUSED))
		return false;
	error_msg(p->id, "send: %s", strerror(err));
	port_lost(p, strerror(err));
	return false;
}

/* Write what the socket takes; true once nothing is left queued. */
bool port_flush(struct port *p)
{
	size_t n;
	ssize_t w;

	while ((n = buf_used(&p->out))) {
		if (p->be == BE_UDP && n > UDP_MAX)
			n = UDP_MAX;
		w = send(p->fd, p->out.data + p->out.head, n, MSG_NOSIGNAL);
		if (w < 0)
			return send_failed(p, errno);
		p->out.head += w;
		p->tx += w;
	}
	return true;
}

/* A fast source: straight from its cached stream, FAST_CHUNK a send(). */
void fast_send(struct port *p)
{
	struct job *j = &p->job;
	size_t n;
	ssize_t w;
	int i;

	for (i = 0; i < FAST_SENDS && p->link == LINK_UP; i++) {
		n = j->nbytes - j->made < FAST_CHUNK ? j->nbytes - j->made :
						       FAST_CHUNK;
		if (!n)
			return;
		w = send(p->fd, j->fast + j->made, n, MSG_NOSIGNAL);
		if (w < 0) {
			send_failed(p, errno);
			return;
		}
		j->made += w;
		p->tx += w;
	}
}

void port_writable(struct port *p)
{
	if (p->job.kind == JOB_SOURCE && !p->job.done)
		source_pump(p);
	else
		port_flush(p);
}

/* recv() gave n <= 0 on a stream, or n < 0 on udp. */
static void recv_ended(struct port *p, ssize_t n)
{
	int err = errno;

	if (!n) {
		port_lost(p, "EOF");
		return;
	}
	/* A refused udp datagram only means QEMU is not bound yet. */
	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
	    (p->be == BE_UDP && err == ECONNREFUSED))
		return;
	error_msg(p->id, "recv: %s", strerror(err));
	port_lost(p, strerror(err));
}

void data_read(struct port *p, short revents)
{
	size_t want = data_want(p);
	ssize_t n;

	if (!want) {
		if (revents & (POLLHUP | POLLRDHUP | POLLERR))
			port_lost(p, "hang-up");
		return;
	}
	/* udp: take the whole datagram, keep what the job wants. */
	n = recv(p->fd, scratch, p->be == BE_UDP ? sizeof(scratch) : want, 0);
	if (n < 0 || (!n && p->be != BE_UDP)) {
		recv_ended(p, n);
		return;
	}
	if ((size_t)n > want) {
		logmsg("%s: dropped %zu bytes of a datagram", p->id, n - want);
		n = want;
	}
	p->rx += n;
	job_feed(p, scratch, n);
}

size_t line_room(struct port *p)
{
	size_t room = buf_make_room(&p->in);

	/* A full buffer without a newline can never become a line. */
	if (!room && !memchr(p->in.data + p->in.head, '\n', buf_used(&p->in))) {
		logmsg("%s: line too long, dropped", p->id);
		buf_clear(&p->in);
		room = BUF_SIZE;
	}
	return room;
}

void line_read(struct port *p)
{
	size_t room = line_room(p);
	ssize_t n;

	if (!room)
		return;
	n = recv(p->fd, p->in.data + p->in.len, room, 0);
	if (n < 0 || (!n && p->be != BE_UDP)) {
		recv_ended(p, n);
		return;
	}
	p->in.len += n;
	p->rx += n;
}
