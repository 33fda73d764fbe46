// SPDX-License-Identifier: GPL-2.0
/*
 * The stock /dev/vportNpM nodes of virtio_console, characterised with the
 * QEMU virtio-serial test plan: transfers both ways with checksums, async
 * connection, big and small transfers, loops, many ports, every chardev
 * backend, and the limits vportx exists to lift (4 KiB reads, 32 KiB
 * writes, exclusive open, data discarded on close). This is the baseline
 * the accelerated node must beat; it runs with vportx loaded to show the
 * stock node is not disturbed by it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "pattern.h"
#include "xfer.h"

#define HOST_WAIT_MS 10000
#define MANY 16

/* Poll the peer until QEMU's last VSERPORT_CHANGE for @id says @open. */
static int wait_vserport(const char *id, int open)
{
	char reply[RIG_REPLY_MAX], want[16];
	int i;

	snprintf(want, sizeof(want), "open=%d", open);
	for (i = 0; i < 500; i++) {
		if (rig_ctl(reply, sizeof(reply), "vserport %s", id))
			return -EPROTO;
		if (!strcmp(reply, want))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* Transfers on unix and tcp chardevs and on an unnamed port. */
FIXTURE(xfer) {
	int fd;		/* the port's stock node, open read-write */
};

FIXTURE_VARIANT(xfer) {
	const char *id;		/* the port's id in the control protocol */
	const char *name;	/* its virtio-serial name, "" for none */
	size_t size;		/* bytes per transfer */
};

FIXTURE_VARIANT_ADD(xfer, unix) { .id = "test.unix", .name = "test.unix",
				  .size = 4 << 20 };
FIXTURE_VARIANT_ADD(xfer, tcp) { .id = "test.tcp", .name = "test.tcp",
				 .size = 4 << 20 };
FIXTURE_VARIANT_ADD(xfer, unnamed) { .id = "unnamed", .name = "",
				     .size = 1 << 20 };

FIXTURE_SETUP(xfer)
{
	ASSERT_EQ(0, rig_ctl_ok("reset %s", variant->id));
	self->fd = rig_port_open_host(variant->name, O_RDWR, HOST_WAIT_MS);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", variant->id,
				      strerror(-self->fd));
}

FIXTURE_TEARDOWN(xfer)
{
	close(self->fd);
	rig_ctl_ok("reset %s", variant->id);
}

TEST_F(xfer, guest_to_host)
{
	rig_to_host(_metadata, self->fd, variant->id, 11, variant->size,
		    1 << 20);
}

TEST_F(xfer, host_to_guest)
{
	rig_from_host(_metadata, self->fd, variant->id, 12, variant->size,
		      1 << 20);
}

/* The host sends before the guest opens the port: nothing may be lost. */
TEST_F(xfer, async_host_first)
{
	size_t n = variant->size < (256 << 10) ? variant->size : 256 << 10;
	struct rig_recv res;

	close(self->fd);
	ASSERT_EQ(0, rig_ctl_ok("source %s %zu 13", variant->id, n));
	usleep(300000);
	self->fd = rig_port_open_host(variant->name, O_RDWR, HOST_WAIT_MS);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, rig_recv(self->fd, 13, n, 65536, &res));
	EXPECT_EQ(-1, res.bad);
	ASSERT_EQ(0, rig_ctl_ok("wait %s %d", variant->id, RIG_JOB_MS));
}

/* The node semantics of one stock port. */
FIXTURE(stock) {
	int fd;		/* test.unix's stock node, open read-write */
};

FIXTURE_SETUP(stock)
{
	ASSERT_EQ(0, rig_ctl_ok("reset test.unix"));
	self->fd = rig_port_open_host("test.unix", O_RDWR, HOST_WAIT_MS);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(stock)
{
	if (self->fd >= 0)
		close(self->fd);
	rig_ctl_ok("reset test.unix");
}

TEST_F_TIMEOUT(stock, big_64m_guest_to_host, 600)
{
	rig_to_host(_metadata, self->fd, "test.unix", 21, 64 << 20, 1 << 20);
}

TEST_F_TIMEOUT(stock, big_64m_host_to_guest, 600)
{
	rig_from_host(_metadata, self->fd, "test.unix", 22, 64 << 20, 1 << 20);
}

/* 10,000 messages of 64 bytes, one write() each. */
TEST_F_TIMEOUT(stock, small_messages, 300)
{
	rig_to_host(_metadata, self->fd, "test.unix", 23, 10000 * 64, 64);
}

/* 1,000 round trips of 64 bytes through the peer's echo. */
TEST_F_TIMEOUT(stock, ping_pong, 300)
{
	char out[64], in[64];
	int i;

	ASSERT_EQ(0, rig_ctl_ok("echo test.unix"));
	for (i = 0; i < 1000; i++) {
		size_t got = 0;

		pattern_fill(out, sizeof(out), 24, i * sizeof(out));
		ASSERT_EQ((ssize_t)sizeof(out), write(self->fd, out, sizeof(out)));
		while (got < sizeof(in)) {
			ssize_t n = read(self->fd, in + got, sizeof(in) - got);

			ASSERT_LT(0, n) TH_LOG("read: %s", strerror(errno));
			got += n;
		}
		ASSERT_EQ(0, memcmp(out, in, sizeof(in))) TH_LOG("round %d", i);
	}
}

/* Open, transfer, close, twenty times over, both ways (test plan loops). */
TEST_F_TIMEOUT(stock, loops_20x, 300)
{
	int i;

	for (i = 0; i < 20; i++) {
		close(self->fd);
		self->fd = rig_port_open_host("test.unix", O_RDWR,
					      HOST_WAIT_MS);
		ASSERT_LE(0, self->fd);
		rig_to_host(_metadata, self->fd, "test.unix", 100 + i,
			    256 << 10, 4096);
		rig_from_host(_metadata, self->fd, "test.unix", 200 + i,
			      256 << 10, 4096);
	}
}

/* A stock read() returns at most one 4 KiB port buffer, however much waits. */
TEST_F(stock, read_returns_at_most_4k)
{
	struct rig_recv res;
	char *buf = malloc(65536);
	ssize_t n;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, rig_ctl_ok("source test.unix 65536 25"));
	ASSERT_EQ(0, rig_ctl_ok("wait test.unix %d", RIG_JOB_MS));
	ASSERT_EQ(0, rig_wait_unread_zero("test.unix"));
	n = read(self->fd, buf, 65536);
	EXPECT_LT(0, n);
	EXPECT_GE(4096, n);
	ASSERT_EQ(-1, pattern_check(buf, n > 0 ? n : 0, 25, 0));
	/* The rest was there all along, and every read stays within 4 KiB. */
	ASSERT_EQ(0, rig_recv(self->fd, 25, 65536 - n, 65536, &res));
	EXPECT_GE(4096, res.maxread);
	free(buf);
}

/* A stock write() takes at most 32 KiB of a larger buffer. */
TEST_F(stock, write_capped_at_32k)
{
	char reply[RIG_REPLY_MAX];
	size_t len = 1 << 20;
	char *buf = malloc(len);
	ssize_t n;

	ASSERT_NE(NULL, buf);
	pattern_fill(buf, len, 26, 0);
	ASSERT_EQ(0, rig_ctl_ok("sink test.unix 32768 26"));
	n = write(self->fd, buf, len);
	EXPECT_EQ(32768, n);
	ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "wait test.unix %d",
			     RIG_JOB_MS));
	EXPECT_EQ(0, strncmp(reply, "received 32768 ", 15)) TH_LOG("%s", reply);
	EXPECT_NE(NULL, strstr(reply, " -1")) TH_LOG("%s", reply);
	free(buf);
}

TEST_F(stock, nonblock_read_eagain)
{
	char c;
	int fd = rig_port_open("test.spare", O_RDONLY | O_NONBLOCK);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rig_wait_host(fd, HOST_WAIT_MS));
	EXPECT_EQ(-1, read(fd, &c, 1));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
}

/* Only one process may have a stock port open. */
TEST_F(stock, second_opener_ebusy)
{
	EXPECT_EQ(-EBUSY, rig_port_open("test.unix", O_RDWR));
	EXPECT_EQ(-EBUSY, rig_port_open("test.unix", O_RDONLY));
}

/*
 * QEMU 7.2's udp chardev never reports its backend open (newer QEMU fixed
 * that), so the port's host side never connects: the guest sees POLLHUP,
 * writes wait forever (EAGAIN with O_NONBLOCK), and QEMU reads the host's
 * datagrams only to drop them, as it writes into the guest only for a
 * connected host. Where the host does show as connected, both ways must
 * simply work.
 */
TEST(udp_backend)
{
	size_t n = 16 << 10;	/* well within the sockets' buffers */
	char c = 0;
	int fd;

	ASSERT_EQ(0, rig_ctl_ok("reset test.udp"));
	fd = rig_port_open("test.udp", O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd);
	if (!(rig_poll(fd, POLLOUT, 1000) & POLLHUP)) {
		ASSERT_EQ(0, fcntl(fd, F_SETFL, O_RDWR));
		rig_to_host(_metadata, fd, "test.udp", 61, n, 4096);
		rig_from_host(_metadata, fd, "test.udp", 62, n, 4096);
		close(fd);
		return;
	}
	EXPECT_EQ(-1, write(fd, &c, 1));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, rig_ctl_ok("source test.udp %zu 62", n));
	ASSERT_EQ(0, rig_ctl_ok("wait test.udp %d", RIG_JOB_MS));
	usleep(500000);
	/* Nothing arrived, and an absent host with nothing queued is EOF. */
	EXPECT_EQ(0, read(fd, &c, 1));
	close(fd);
}

/* Console ports belong to hvc: their vport node refuses to open. */
TEST(console_port_enxio)
{
	char path[64];

	ASSERT_EQ(0, rig_port_path("vportx.console", path, sizeof(path)));
	EXPECT_EQ(-1, open(path, O_RDWR));
	EXPECT_EQ(ENXIO, errno);
}

/* Data the guest received but did not read is gone after close(). */
TEST_F(stock, close_discards_unread)
{
	struct rig_recv res;

	ASSERT_EQ(0, rig_ctl_ok("source test.unix 8192 27"));
	ASSERT_EQ(0, rig_ctl_ok("wait test.unix %d", RIG_JOB_MS));
	ASSERT_EQ(0, rig_wait_unread_zero("test.unix"));
	close(self->fd);
	self->fd = rig_port_open_host("test.unix", O_RDWR, HOST_WAIT_MS);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, rig_ctl_ok("source test.unix 4096 28"));
	ASSERT_EQ(0, rig_recv(self->fd, 28, 4096, 4096, &res));
	EXPECT_EQ(-1, res.bad);
}

/* QEMU reports the guest opening and closing the port as VSERPORT_CHANGE. */
TEST_F(stock, vserport_change_event)
{
	EXPECT_EQ(0, wait_vserport("test.unix", 1));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, wait_vserport("test.unix", 0));
}

/* Host gone: POLLHUP and EOF. Host back: the port works again. */
TEST(host_disconnect_reconnect)
{
	char c;
	int fd;

	ASSERT_EQ(0, rig_ctl_ok("reset test.spare"));
	fd = rig_port_open_host("test.spare", O_RDWR, HOST_WAIT_MS);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rig_ctl_ok("disconnect test.spare"));
	EXPECT_EQ(POLLHUP, rig_poll(fd, POLLIN, HOST_WAIT_MS) & POLLHUP);
	EXPECT_EQ(0, read(fd, &c, 1));
	ASSERT_EQ(0, rig_ctl_ok("connect test.spare"));
	ASSERT_EQ(0, rig_wait_host(fd, HOST_WAIT_MS));
	rig_to_host(_metadata, fd, "test.spare", 31, 64 << 10, 4096);
	rig_from_host(_metadata, fd, "test.spare", 32, 64 << 10, 4096);
	close(fd);
}

static int child_send(int fd, const char *id, uint64_t seed, size_t n)
{
	(void)id;
	return rig_send(fd, seed, n, 65536, NULL) == (ssize_t)n ? 0 : 1;
}

static int child_recv(int fd, const char *id, uint64_t seed, size_t n)
{
	struct rig_recv res;

	(void)id;
	return rig_recv(fd, seed, n, 65536, &res) || res.bad != -1;
}

/* Run @fn on each of the MANY ports in a child of its own, all at once. */
static int run_many(int *fds, int (*fn)(int, const char *, uint64_t, size_t),
		    size_t n)
{
	int i, status, failed = 0;
	char id[16];

	for (i = 0; i < MANY; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return -errno;
		if (!pid) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			snprintf(id, sizeof(id), "many.%02d", i);
			_exit(fn(fds[i], id, 40 + i, n));
		}
	}
	for (i = 0; i < MANY; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed++;
	return failed;
}

/*
 * All 16 ports of the second device moving data at the same time. Their
 * hosts connect only now, long after boot (see "Stock limits" in
 * Documentation/rig.rst for why not at boot).
 */
TEST_F_TIMEOUT(stock, all_ports_at_once, 300)
{
	size_t n = 1 << 20;
	int fds[MANY], i;
	char id[16];

	for (i = 0; i < MANY; i++) {
		snprintf(id, sizeof(id), "many.%02d", i);
		ASSERT_EQ(0, rig_ctl_ok("connect %s", id));
		ASSERT_EQ(0, rig_ctl_ok("reset %s", id));
		fds[i] = rig_port_open_host(id, O_RDWR, HOST_WAIT_MS);
		ASSERT_LE(0, fds[i]) TH_LOG("%s: %s", id, strerror(-fds[i]));
		ASSERT_EQ(0, rig_ctl_ok("sink %s %zu %d", id, n, 40 + i));
	}
	EXPECT_EQ(0, run_many(fds, child_send, n));
	for (i = 0; i < MANY; i++) {
		snprintf(id, sizeof(id), "many.%02d", i);
		EXPECT_EQ(0, rig_ctl_ok("wait %s %d", id, RIG_JOB_MS));
		ASSERT_EQ(0, rig_ctl_ok("source %s %zu %d", id, n, 40 + i));
	}
	EXPECT_EQ(0, run_many(fds, child_recv, n));
	for (i = 0; i < MANY; i++)
		close(fds[i]);
}

/* A port hot-plugged over QMP works; unplugged, its node goes away. */
TEST(hotplug_port)
{
	int fd;

	ASSERT_EQ(0, rig_ctl_ok("hotplug hot.0 hot.0 1 20"));
	ASSERT_EQ(0, rig_wait_port("hot.0", 1));
	fd = rig_port_open_host("hot.0", O_RDWR, HOST_WAIT_MS);
	ASSERT_LE(0, fd);
	rig_to_host(_metadata, fd, "hot.0", 51, 256 << 10, 65536);
	rig_from_host(_metadata, fd, "hot.0", 52, 256 << 10, 65536);
	close(fd);
	ASSERT_EQ(0, rig_ctl_ok("unplug hot.0"));
	EXPECT_EQ(0, rig_wait_port("hot.0", 0));
}

/* Unplugging a port under a blocked read() wakes it with ENODEV. */
TEST(unplug_mid_read)
{
	int fd, status;
	pid_t pid;
	char c;

	ASSERT_EQ(0, rig_ctl_ok("hotplug hot.1 hot.1 1 21"));
	ASSERT_EQ(0, rig_wait_port("hot.1", 1));
	fd = rig_port_open_host("hot.1", O_RDWR, HOST_WAIT_MS);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(read(fd, &c, 1) == -1 && errno == ENODEV ? 0 : 1);
	usleep(300000);
	ASSERT_EQ(0, rig_ctl_ok("unplug hot.1"));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(POLLHUP, rig_poll(fd, POLLIN, 1000) & POLLHUP);
	EXPECT_EQ(-1, read(fd, &c, 1));
	EXPECT_EQ(ENODEV, errno);
	close(fd);
}

TEST_HARNESS_MAIN
