// SPDX-License-Identifier: GPL-2.0
/*
 * The host peer of the vportx test rig.
 *
 * It serves the host side of every virtio-serial port the rig gives the guest,
 * obeys the control protocol of Documentation/rig.rst on the port with id
 * vportx.ctl and drives QMP for hot-plug.
 *
 * Usage: peer -c PEERCONF -q QMPSOCK [-t TIMEOUT_S] [-l LOGFILE]
 *
 * One thread, one poll() loop, every socket non-blocking: the guest starts
 * many jobs at once and collects them with wait, so no port, no QMP command
 * and no parked request may ever hold up the others.
 *
 * Exit status: 0 when the control port reaches EOF (QEMU is gone), 2 on a
 * setup error, 3 when the overall timeout expires.
 *
 * This file has start-up and the loop: what each port is polled for, what
 * its events do, timers and deadlines. The rest, one concern a file:
 * conf.c the configuration, port.c the port table, link.c connecting,
 * io.c moving bytes, job.c source/sink/echo/talk, ctl.c the control port
 * and parked requests, cmd.c the requests, hotplug.c hot-plug and unplug,
 * qmp.c the QMP client, json.c its JSON, buf.c byte queues, parse.c
 * words and numbers, log.c time, logging and errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* POLLRDHUP */
#endif
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "port.h"
#include "qmp.h"

#define START_MS	10000	/* connecting at start-up */
#define HANDSHAKE_MS	1000	/* QMP greeting after a late connect */
#define TIMEOUT_S	1800

bool starting = true;
static uint64_t t_start;
static uint64_t t_end;
static unsigned long timeout_s = TIMEOUT_S;
static struct pollfd pfds[MAX_PORTS];
static struct port *polled[MAX_PORTS];

static bool port_reads(struct port *p)
{
	if (p->is_qmp)
		return line_room(p) > 0;
	if (p->is_ctl)
		return !starting && line_room(p) > 0;
	return data_want(p) > 0;
}

/* What to poll the port for, or -1 not to poll it at all. */
static int port_events(struct port *p)
{
	int ev;

	if (p->link == LINK_CONNECTING)
		return POLLOUT;
	if (p->link != LINK_UP)
		return -1;
	/* An idle stream still learns that QEMU went away. */
	ev = p->be == BE_UDP ? 0 : POLLRDHUP;
	if (buf_used(&p->out) || (p->job.kind == JOB_SOURCE && !p->job.done))
		ev |= POLLOUT;
	if (port_reads(p))
		ev |= POLLIN;
	return ev;
}

static void port_event(struct port *p, short revents)
{
	if (p->link == LINK_CONNECTING) {
		port_connect_done(p);
		return;
	}
	if (revents & POLLOUT)
		port_writable(p);
	if (p->link != LINK_UP ||
	    !(revents & (POLLIN | POLLHUP | POLLRDHUP | POLLERR)))
		return;
	if (p->is_qmp || p->is_ctl)
		line_read(p);
	else
		data_read(p, revents);
	if (p->is_qmp)
		qmp_lines();
}

static int poll_build(void)
{
	size_t i;
	int n = 0, ev;

	for (i = 0; i < nports; i++) {
		ev = port_events(ports[i]);
		if (ev < 0)
			continue;
		pfds[n].fd = ports[i]->fd;
		pfds[n].events = ev;
		pfds[n].revents = 0;
		polled[n++] = ports[i];
	}
	return n;
}

static int poll_timeout(void)
{
	uint64_t now = now_ms(), next = t_end;
	size_t i;

	for (i = 0; i < nports; i++)
		if (port_wakeup(ports[i]) < next)
			next = port_wakeup(ports[i]);
	if (pending_deadline() < next)
		next = pending_deadline();
	if (starting && t_start + START_MS + HANDSHAKE_MS < next)
		next = t_start + START_MS + HANDSHAKE_MS;
	if (next <= now)
		return 0;
	return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

static void startup_check(uint64_t now)
{
	size_t i;

	for (i = 0; i < nports; i++)
		if (ports[i]->link != LINK_UP && !ports[i]->late)
			break;
	if (i == nports && qmp_ready()) {
		starting = false;
		logmsg("all ports connected, QMP ready");
	} else if (now >= t_start + START_MS + HANDSHAKE_MS) {
		die(2, "setup", "QMP did not become ready");
	}
}

static void timers_run(void)
{
	uint64_t now = now_ms();
	size_t i;

	if (now >= t_end)
		die(3, "timeout", "no end of the control channel after %lu s",
		    timeout_s);
	for (i = 0; i < nports; i++)
		port_timer(ports[i], now);
	if (starting)
		startup_check(now);
}

static void loop_once(void)
{
	int i, n = poll_build();

	if (poll(pfds, n, poll_timeout()) < 0 && errno != EINTR)
		die(2, "poll", "%s", strerror(errno));
	for (i = 0; i < n; i++)
		if (pfds[i].revents)
			port_event(polled[i], pfds[i].revents);
	timers_run();
	pending_check();
	ports_reap();
	ctl_process();
}

static void __noreturn usage(void)
{
	die(2, "usage", "peer -c PEERCONF -q QMPSOCK [-t TIMEOUT_S] [-l LOGFILE]");
}

static void parse_args(int argc, char **argv, const char **conf,
		       const char **qmp_path, const char **log_path)
{
	uint64_t t;
	int c;

	while ((c = getopt(argc, argv, "c:q:t:l:")) != -1) {
		if (c == 'c')
			*conf = optarg;
		else if (c == 'q')
			*qmp_path = optarg;
		else if (c == 'l')
			*log_path = optarg;
		else if (c == 't' && parse_u64(optarg, &t) && t && t < 1u << 30)
			timeout_s = t;
		else
			usage();
	}
	if (!*conf || !*qmp_path || optind != argc)
		usage();
}

/* Every port and QMP at once: QEMU creates its sockets in its own time. */
static void connect_all(void)
{
	size_t i;

	for (i = 0; i < nports; i++) {
		if (ports[i]->late)
			continue;
		if (ports[i]->be == BE_UDP)
			udp_open(ports[i]);
		else
			port_connect_start(ports[i], START_MS);
	}
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *qmp_path = NULL, *log_path = NULL;

	parse_args(argc, argv, &conf, &qmp_path, &log_path);
	log_open(log_path);
	/* A port QEMU closed must fail a write, not kill the peer. */
	signal(SIGPIPE, SIG_IGN);
	t_start = now_ms();
	t_end = t_start + (uint64_t)timeout_s * 1000;
	conf_load(conf);
	qmp_setup(qmp_path);
	logmsg("peer starting: %zu ports, timeout %lu s", nports - 1, timeout_s);
	connect_all();
	for (;;)
		loop_once();
}
