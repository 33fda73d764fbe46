/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest side of the rig: find ports by name, talk to the host peer over the
 * control port (Documentation/rig.rst), move pattern data through a port.
 * Functions return 0 or a positive count on success and -errno on failure
 * unless they say otherwise.
 */
#ifndef _VPORTX_RIG_GUEST_H
#define _VPORTX_RIG_GUEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RIG_REPLY_MAX 256

/* The contents of the file @path in @buf, cut at the first newline. */
int rig_read_file(const char *path, char *buf, size_t len);

/* /dev/vportNpM of the port named @name ("" for the one unnamed port). */
int rig_port_path(const char *name, char *path, size_t len);
int rig_port_open(const char *name, int flags);
/*
 * rig_port_open, then wait up to @timeout_ms for the host side of the port:
 * the fd, or -ETIMEDOUT (the port closed again) when the host never came.
 */
int rig_port_open_host(const char *name, int flags, int timeout_ms);
/* Wait until the port named @name exists (1) or is gone (0). */
int rig_wait_port(const char *name, int exists);

/*
 * One control request. Returns 0 when the peer answered "ok", with the rest
 * of the line in @reply; 1 when it answered "err", with the reason in
 * @reply; -errno when the control port failed.
 */
int rig_ctl(char *reply, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* rig_ctl that must succeed: 0 or -EPROTO (the reply goes to stderr). */
int rig_ctl_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Send @request (the peer decodes \xHH escapes in it) and a newline to the
 * host side of port @id, and collect the host side's answer up to its
 * first newline into @line, NUL-terminated: its length, -EMSGSIZE if it
 * does not fit, -EPROTO if the peer refused or nothing came within
 * @timeout_ms. For line protocols such as qemu-guest-agent's.
 */
ssize_t rig_talk(const char *id, const char *request, char *line, size_t len,
		 int timeout_ms);
/*
 * Wait until QEMU has read every byte the peer wrote to port @id: QEMU
 * reads a socket only into buffers the guest posted, so then they are all
 * in the guest. -EPROTO when the peer refuses `stats`.
 */
int rig_wait_unread_zero(const char *id);

/* Wait until the host side of the open port @fd is connected. */
int rig_wait_host(int fd, int timeout_ms);
/*
 * rig_wait_host on @fd, what an open returned (an fd or -errno): @fd once
 * the host is connected, -ETIMEDOUT with @fd closed when it did not come
 * within @timeout_ms, or @fd unchanged when it is already -errno.
 */
int rig_host_or_close(int fd, int timeout_ms);
/* Wait until @fd polls with @events set; returns revents or -errno. */
int rig_poll(int fd, short events, int timeout_ms);
/* A stream socket listening on AF_VSOCK port @port of any CID, or -errno. */
int rig_vsock_listen(unsigned int port);

/*
 * Write @total bytes of pattern @seed in write()s of at most @chunk bytes;
 * short writes are continued. *@hash gets the FNV-1a 64 of what was sent.
 */
ssize_t rig_send(int fd, uint64_t seed, size_t total, size_t chunk,
		 uint64_t *hash);
struct rig_recv {
	long long bad;		/* offset of the first wrong byte, or -1 */
	size_t maxread;		/* the largest single read() result */
	uint64_t hash;		/* FNV-1a 64 of what was read */
};

/*
 * Read exactly @total bytes with read()s of at most @chunk and compare them
 * with pattern @seed. -EPIPE when the port reports EOF before @total.
 */
int rig_recv(int fd, uint64_t seed, size_t total, size_t chunk,
	     struct rig_recv *res);

/* Parse "received N HASH BAD" of a sink's wait reply. */
int rig_parse_sunk(const char *reply, unsigned long long *n, uint64_t *hash,
		   long long *bad);

/*
 * sysfs attribute @attr of the vportx node the link @link leads to, in
 * @buf as rig_read_file() gives it: 0 or -errno.
 */
int rig_link_attr(const char *link, const char *attr, char *buf, size_t len);

/* Run a shell command: its exit status, or -1. */
int rig_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* _VPORTX_RIG_GUEST_H */
