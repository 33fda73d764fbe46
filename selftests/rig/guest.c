// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of the rig (see guest.h and Documentation/rig.rst).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "guest.h"
#include "pattern.h"

#define SYS_PORTS "/sys/class/virtio-ports"
#define CTL_NAME "vportx.ctl"
/* A reply may wait for a long job: the peer bounds it with `wait ID MS`. */
#define CTL_REPLY_TIMEOUT_MS (15 * 60 * 1000)

int rig_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Does the sysfs entry @port carry the name @name ("" = no name at all)? */
static int port_matches(const char *port, const char *name)
{
	char path[512], val[256];
	int ret;

	snprintf(path, sizeof(path), SYS_PORTS "/%s/name", port);
	ret = rig_read_file(path, val, sizeof(val));
	if (ret == -ENOENT)
		return !*name;
	return !ret && *name && !strcmp(val, name);
}

int rig_port_path(const char *name, char *path, size_t len)
{
	DIR *dir = opendir(SYS_PORTS);
	struct dirent *de;
	int found = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || !port_matches(de->d_name, name))
			continue;
		snprintf(path, len, "/dev/%s", de->d_name);
		found++;
	}
	closedir(dir);
	if (found > 1)
		return -EEXIST;
	return found ? 0 : -ENOENT;
}

int rig_port_open(const char *name, int flags)
{
	char path[64];
	int ret = rig_port_path(name, path, sizeof(path));

	if (ret < 0)
		return ret;
	ret = open(path, flags | O_CLOEXEC);
	return ret < 0 ? -errno : ret;
}

int rig_port_open_host(const char *name, int flags, int timeout_ms)
{
	return rig_host_or_close(rig_port_open(name, flags), timeout_ms);
}

int rig_wait_port(const char *name, int exists)
{
	char path[64];
	int i;

	for (i = 0; i < 1000; i++) {
		if ((rig_port_path(name, path, sizeof(path)) == 0) == exists)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

int rig_poll(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ret = poll(&pfd, 1, timeout_ms);

	if (ret < 0)
		return -errno;
	return ret ? pfd.revents : -ETIMEDOUT;
}

/* The stock node reports POLLHUP for as long as the host is not there. */
int rig_wait_host(int fd, int timeout_ms)
{
	int waited;

	for (waited = 0; waited <= timeout_ms; waited += 10) {
		int ret = rig_poll(fd, POLLOUT, 0);

		if (ret < 0 && ret != -ETIMEDOUT)
			return ret;
		if (ret == -ETIMEDOUT || !(ret & POLLHUP))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

int rig_host_or_close(int fd, int timeout_ms)
{
	if (fd >= 0 && rig_wait_host(fd, timeout_ms) < 0) {
		close(fd);
		return -ETIMEDOUT;
	}
	return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

static int read_line(int fd, char *buf, size_t len)
{
	size_t have = 0;

	while (have < len - 1) {
		int ret = rig_poll(fd, POLLIN, CTL_REPLY_TIMEOUT_MS);
		ssize_t n;

		if (ret < 0)
			return ret;
		n = read(fd, buf + have, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EPIPE;
		if (buf[have] == '\n') {
			buf[have] = '\0';
			return 0;
		}
		have++;
	}
	return -EMSGSIZE;
}

/* The reply is read a byte at a time so nothing past its line is taken. */
static int ctl_exchange(const char *req, char *reply, size_t len)
{
	int fd = rig_port_open(CTL_NAME, O_RDWR);
	int ret;

	if (fd < 0)
		return fd;
	ret = rig_wait_host(fd, 10000);
	if (!ret)
		ret = write_all(fd, req, strlen(req));
	if (!ret)
		ret = read_line(fd, reply, len);
	close(fd);
	return ret;
}

static int vctl(char *reply, size_t len, const char *fmt, va_list ap)
{
	char req[RIG_REPLY_MAX], line[RIG_REPLY_MAX];
	int n = vsnprintf(req, sizeof(req) - 1, fmt, ap);
	int ret;

	if (n < 0 || n >= (int)sizeof(req) - 1)
		return -EMSGSIZE;
	strcpy(req + n, "\n");
	ret = ctl_exchange(req, line, sizeof(line));
	if (ret < 0)
		return ret;
	if (!strncmp(line, "ok", 2) && (!line[2] || line[2] == ' ')) {
		snprintf(reply, len, "%s", line[2] ? line + 3 : "");
		return 0;
	}
	snprintf(reply, len, "%s", !strncmp(line, "err ", 4) ? line + 4 : line);
	return 1;
}

int rig_ctl(char *reply, size_t len, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vctl(reply, len, fmt, ap);
	va_end(ap);
	return ret;
}

int rig_ctl_ok(const char *fmt, ...)
{
	char reply[RIG_REPLY_MAX];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vctl(reply, sizeof(reply), fmt, ap);
	va_end(ap);
	if (ret < 0)
		fprintf(stderr, "rig: control port: %s\n", strerror(-ret));
	else if (ret)
		fprintf(stderr, "rig: peer: %s\n", reply);
	return ret ? -EPROTO : 0;
}

/* Undo the peer's \xHH escapes of a heard piece, appending to @out. */
static size_t unescape_into(const char *s, char *out, size_t room)
{
	unsigned int byte;
	size_t n = 0;

	while (*s && n < room) {
		if (s[0] == '\\' && sscanf(s, "\\x%2x", &byte) == 1) {
			out[n++] = (char)byte;
			s += 4;
		} else {
			out[n++] = *s++;
		}
	}
	return n;
}

ssize_t rig_talk(const char *id, const char *request, char *line, size_t len,
		 int timeout_ms)
{
	char reply[RIG_REPLY_MAX];
	unsigned long long want;
	size_t got = 0, n;

	if (rig_ctl(reply, sizeof(reply), "talk %s %s", id, request) ||
	    rig_ctl(reply, sizeof(reply), "wait %s %d", id, timeout_ms) ||
	    sscanf(reply, "heard %llu", &want) != 1)
		return -EPROTO;
	if (want >= len)
		return -EMSGSIZE;
	while (got < want) {
		if (rig_ctl(reply, sizeof(reply), "heard %s %zu", id, got))
			return -EPROTO;
		n = unescape_into(reply, line + got, len - 1 - got);
		if (!n)
			return -EPROTO;
		got += n;
	}
	line[got] = '\0';
	return got;
}

int rig_wait_unread_zero(const char *id)
{
	char reply[RIG_REPLY_MAX];
	int i;

	for (i = 0; i < 1000; i++) {
		if (rig_ctl(reply, sizeof(reply), "stats %s", id))
			return -EPROTO;
		if (strstr(reply, " unread=0"))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

ssize_t rig_send(int fd, uint64_t seed, size_t total, size_t chunk,
		 uint64_t *hash)
{
	char *buf = malloc(chunk);
	uint64_t h = FNV64_INIT;
	size_t done = 0;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (!ret && done < total) {
		size_t len = total - done < chunk ? total - done : chunk;

		pattern_fill(buf, len, seed, done);
		h = fnv64_update(h, buf, len);
		ret = write_all(fd, buf, len);
		done += len;
	}
	free(buf);
	if (hash)
		*hash = h;
	return ret ? ret : (ssize_t)total;
}

int rig_recv(int fd, uint64_t seed, size_t total, size_t chunk,
	     struct rig_recv *res)
{
	char *buf = malloc(chunk);
	size_t done = 0;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	memset(res, 0, sizeof(*res));
	res->bad = -1;
	res->hash = FNV64_INIT;
	while (!ret && done < total) {
		size_t want = total - done < chunk ? total - done : chunk;
		ssize_t n = read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n ? -errno : -EPIPE;
			break;
		}
		if ((size_t)n > res->maxread)
			res->maxread = n;
		if (res->bad < 0) {
			int64_t bad = pattern_check(buf, n, seed, done);

			if (bad >= 0)
				res->bad = done + bad;
		}
		res->hash = fnv64_update(res->hash, buf, n);
		done += n;
	}
	free(buf);
	return ret;
}

int rig_parse_sunk(const char *reply, unsigned long long *n, uint64_t *hash,
		   long long *bad)
{
	if (sscanf(reply, "received %llu %" SCNx64 " %lld", n, hash, bad) != 3)
		return -EPROTO;
	return 0;
}

int rig_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int rig_link_attr(const char *link, const char *attr, char *buf, size_t len)
{
	char node[PATH_MAX], path[PATH_MAX + 64];

	if (!realpath(link, node))
		return -errno;
	snprintf(path, sizeof(path), "/sys/class/vportx/%s/%s",
		 strrchr(node, '/') + 1, attr);
	return rig_read_file(path, buf, len);
}

int rig_vsock_listen(unsigned int port)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = port,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	if (!bind(fd, (struct sockaddr *)&addr, sizeof(addr)) && !listen(fd, 1))
		return fd;
	err = errno;
	close(fd);
	return -err;
}
