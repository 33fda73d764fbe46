// SPDX-License-Identifier: GPL-2.0
/*
 * rigctl: the rig's guest-side tool for scripts (the demo, shell tests).
 *
 *   rigctl req WORD...                 one control request, prints the reply
 *   rigctl send PORT|PATH|- SEED N [CHUNK]   write N pattern bytes
 *   rigctl recv PORT|PATH|- SEED N [CHUNK]   read and verify N pattern bytes
 *
 * A PORT is a virtio-serial port name, opened through its stock node; a
 * PATH starts with '/'; '-' is standard input or output.
 * Exit: 0 ok, 1 the peer said err or the data was wrong, 2 error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "pattern.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_req(int argc, char **argv)
{
	char req[RIG_REPLY_MAX] = "", reply[RIG_REPLY_MAX];
	int i, ret;

	for (i = 0; i < argc; i++) {
		strncat(req, argv[i], sizeof(req) - strlen(req) - 2);
		if (i + 1 < argc)
			strcat(req, " ");
	}
	ret = rig_ctl(reply, sizeof(reply), "%s", req);
	if (ret < 0) {
		fprintf(stderr, "rigctl: control port: %s\n", strerror(-ret));
		return 2;
	}
	printf("%s%s\n", ret ? "err " : "ok ", reply);
	return ret;
}

static int open_target(const char *what, int flags)
{
	int fd;

	if (!strcmp(what, "-"))
		return flags == O_RDONLY ? 0 : 1;
	if (what[0] != '/')
		return rig_port_open_host(what, flags, 10000);
	fd = open(what, flags);
	return fd < 0 ? -errno : fd;
}

static int parse_xfer(int argc, char **argv, int flags, uint64_t *seed,
		      size_t *n, size_t *chunk)
{
	int fd;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "rigctl: usage: send|recv TARGET SEED N [CHUNK]\n");
		return -EINVAL;
	}
	*seed = strtoull(argv[1], NULL, 0);
	*n = strtoull(argv[2], NULL, 0);
	*chunk = argc == 4 ? strtoull(argv[3], NULL, 0) : 1 << 20;
	if (!*chunk)
		return -EINVAL;
	fd = open_target(argv[0], flags);
	if (fd < 0)
		fprintf(stderr, "rigctl: %s: %s\n", argv[0], strerror(-fd));
	return fd;
}

static void report(const char *verb, size_t n, double secs, uint64_t hash)
{
	fprintf(stderr, "%s %zu bytes in %.3f s (%.1f MB/s), fnv64 %016" PRIx64 "\n",
		verb, n, secs, secs > 0 ? n / secs / 1e6 : 0.0, hash);
}

/* write() all of @buf in writes of at most @chunk: 0 or -errno. */
static int write_chunks(int fd, const char *buf, size_t n, size_t chunk)
{
	size_t done = 0;
	ssize_t w;

	while (done < n) {
		w = write(fd, buf + done, n - done < chunk ? n - done : chunk);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w ? -errno : -EIO;
		done += w;
	}
	return 0;
}

/*
 * The pattern is made before the clock starts (under TCG making it costs
 * more than small writes do), and the clock stops once fsync() says the
 * node has handed everything to the port (a stock node has no fsync: its
 * write() returns with the bytes in the port already).
 */
static int cmd_send(int argc, char **argv)
{
	uint64_t seed, hash;
	size_t n, chunk;
	char *buf;
	double t;
	int ret, fd = parse_xfer(argc, argv, O_WRONLY, &seed, &n, &chunk);

	if (fd < 0)
		return 2;
	buf = malloc(n ? n : 1);
	if (!buf) {
		fprintf(stderr, "rigctl: send: %s\n", strerror(ENOMEM));
		return 2;
	}
	pattern_fill(buf, n, seed, 0);
	hash = fnv64_update(FNV64_INIT, buf, n);
	t = now();
	ret = write_chunks(fd, buf, n, chunk);
	if (!ret && fsync(fd) && errno != EINVAL)
		ret = -errno;
	t = now() - t;
	free(buf);
	if (ret < 0) {
		fprintf(stderr, "rigctl: send: %s\n", strerror(-ret));
		return 2;
	}
	report("sent", n, t, hash);
	return 0;
}

static int cmd_recv(int argc, char **argv)
{
	struct rig_recv res;
	uint64_t seed;
	size_t n, chunk;
	double t;
	int ret, fd = parse_xfer(argc, argv, O_RDONLY, &seed, &n, &chunk);

	if (fd < 0)
		return 2;
	t = now();
	ret = rig_recv(fd, seed, n, chunk, &res);
	t = now() - t;
	if (ret < 0) {
		fprintf(stderr, "rigctl: recv: %s\n", strerror(-ret));
		return 2;
	}
	report("received", n, t, res.hash);
	if (res.bad >= 0)
		fprintf(stderr, "rigctl: recv: wrong byte at offset %lld\n", res.bad);
	return res.bad >= 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "req"))
		return cmd_req(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "send"))
		return cmd_send(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "recv"))
		return cmd_recv(argc - 2, argv + 2);
	fprintf(stderr, "usage: rigctl req WORD... | send|recv TARGET SEED N [CHUNK]\n");
	return 2;
}
