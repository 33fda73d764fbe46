/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A port: the host side of one of QEMU's chardev sockets, or of a stream
 * to a guest's AF_VSOCK listener, with its link, its job and its queues. The table is in port.c, the configuration in
 * conf.c, connecting in link.c, jobs in job.c, moving bytes in io.c.
 */
#ifndef VPORTX_PEER_PORT_H
#define VPORTX_PEER_PORT_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "peer.h"

#define CTL_ID		"vportx.ctl"
#define MAX_PORTS	128
#define CONNECT_MS	5000	/* connecting on request */
#define FAST_CHUNK	(1024 * 1024)	/* a fast job's recv() or send() */

/*
 * BE_VSOCK: a unix socket of vhost-device-vsock (scripts/vsock-host),
 * which is a stream to the guest's AF_VSOCK port once it answered
 * "CONNECT PORT" with "OK": LINK_HANDSHAKE waits for that answer.
 */
enum backend { BE_UNIX, BE_TCP, BE_UDP, BE_VSOCK };

enum link { LINK_DOWN, LINK_RETRY, LINK_CONNECTING, LINK_HANDSHAKE, LINK_UP };

enum job_kind { JOB_NONE, JOB_SOURCE, JOB_SINK, JOB_ECHO, JOB_TALK };

struct job {
	enum job_kind kind;
	bool done;
	uint64_t nbytes;
	uint64_t seed;
	uint64_t made;		/* source: pattern bytes generated so far */
	uint64_t pos;		/* sink: bytes received so far */
	uint64_t hash;
	int64_t bad;
	const char *fast;	/* a fast job's whole stream (fast.c) */
	char result[128];	/* what wait answers once done */
};

struct port {
	char id[ID_MAX];
	enum backend be;
	struct sockaddr_storage addr;	/* QEMU's end */
	socklen_t addr_len;
	struct sockaddr_in local;	/* udp only: the peer's end */
	uint32_t vsock_port;	/* vsock only: the guest's AF_VSOCK port */
	int fd;
	enum link link;
	int last_err;		/* why the last connect attempt failed */
	uint64_t retry_at;	/* next connect, or next look for vsock's OK */
	uint64_t deadline;	/* connecting gives up then */
	bool is_ctl;
	bool is_qmp;
	bool late;		/* connected on request only, never at start */
	bool deleted;		/* QEMU reported DEVICE_DELETED for it */
	bool dead;		/* unplugged: freed at the end of the pass */
	uint64_t rx;
	uint64_t tx;
	struct job job;
	struct buf in;		/* ctl and QMP: partial lines */
	struct buf out;		/* replies, echoed bytes or a pattern chunk */
};

/* port.c: every port, QMP's connection included, and the control port. */
extern struct port *ports[MAX_PORTS];
extern size_t nports;
extern struct port *ctl;

struct port *port_new(const char *id, enum backend be);
void port_free(struct port *p);
struct port *port_find(const char *id);
bool port_add(struct port *p);
void ports_reap(void);
bool addr_unix(struct port *p, const char *path);
void addr_loopback(struct sockaddr_in *sin, uint16_t port);

/* conf.c */
void conf_load(const char *path);

/* link.c */
void port_connect_start(struct port *p, uint64_t ms);
void port_connect_done(struct port *p);
void udp_open(struct port *p);
void port_timer(struct port *p, uint64_t now);
uint64_t port_wakeup(const struct port *p);
void port_lost(struct port *p, const char *why);
void port_disconnect(struct port *p);

/* job.c */
bool job_running(const struct port *p);
void job_fail(struct port *p, const char *why);
void job_start(struct port *p, enum job_kind kind, uint64_t nbytes,
	       uint64_t seed);
void job_stop(struct port *p);
size_t data_want(struct port *p);
void job_feed(struct port *p, const char *data, size_t n);
void source_pump(struct port *p);

/* fast.c */
void job_start_fast(struct port *p, enum job_kind kind, uint64_t nbytes,
		    uint64_t seed);
void fast_sink_feed(struct port *p, const char *data, size_t n);

/* io.c */
bool port_flush(struct port *p);
void fast_send(struct port *p);
void port_writable(struct port *p);
void data_read(struct port *p, short revents);
size_t line_room(struct port *p);
void line_read(struct port *p);

#endif
