// SPDX-License-Identifier: GPL-2.0
/*
 * The rig's virtio-vsock device (VPORTX_VSOCK=1, Documentation/rig.rst):
 * the peer's port vsock.a is a stream to this program's AF_VSOCK listener,
 * through vhost-device-vsock on the host, and carries checked pattern data
 * both ways as a virtio-serial port does. guest-run runs it only when the
 * rig has the device (vportx.vsock=1). The MB/s it logs are the guest's
 * view, from the peer's sink or source request to the last byte checked:
 * rough numbers under TCG.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "xfer.h"

#define VSOCK_ID	"vsock.a"	/* selftests/rig/ports.conf */
#define VSOCK_PORT	5000		/* its NR there: the guest's port */
#define XFER_SIZE	(16 << 20)
#define XFER_CHUNK	(1 << 20)
#define ACCEPT_MS	10000
#define LATE_LISTEN_US	500000	/* well inside the peer's 5 s to connect */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Does the peer have the port, that is, does the rig have the device? */
static int have_vsock(char *reply, size_t len)
{
	return !rig_ctl(reply, len, "stats %s", VSOCK_ID);
}

/* The connection the peer made to @lfd, or -errno. */
static int vsock_accept(int lfd)
{
	int ret = rig_poll(lfd, POLLIN, ACCEPT_MS);

	if (ret < 0)
		return ret;
	ret = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	return ret < 0 ? -errno : ret;
}

FIXTURE(vsock) {
	int lfd;	/* listening on VSOCK_PORT */
	int fd;		/* the peer's connection, accepted */
};

/*
 * Listen first: the peer's connect is answered once the guest's kernel
 * has queued the connection for accept(), so it is there to take.
 */
FIXTURE_SETUP(vsock)
{
	char reply[RIG_REPLY_MAX];

	self->lfd = -1;
	self->fd = -1;
	if (!have_vsock(reply, sizeof(reply)))
		SKIP(return, "the rig has no %s: %s", VSOCK_ID, reply);
	self->lfd = rig_vsock_listen(VSOCK_PORT);
	ASSERT_LE(0, self->lfd) TH_LOG("listen: %s", strerror(-self->lfd));
	ASSERT_EQ(0, rig_ctl_ok("connect %s", VSOCK_ID));
	self->fd = vsock_accept(self->lfd);
	ASSERT_LE(0, self->fd) TH_LOG("accept: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(vsock)
{
	if (self->fd >= 0) {
		rig_ctl_ok("disconnect %s", VSOCK_ID);
		close(self->fd);
	}
	if (self->lfd >= 0)
		close(self->lfd);
}

/* 16 MiB guest→host in 1 MiB writes; the peer's sink checks every byte. */
TEST_F(vsock, to_host)
{
	double t = now();

	rig_to_host(_metadata, self->fd, VSOCK_ID, 41, XFER_SIZE, XFER_CHUNK);
	t = now() - t;
	TH_LOG("guest->host: %d bytes in %.3f s (%.1f MB/s)", XFER_SIZE, t,
	       XFER_SIZE / t / 1e6);
}

/* 16 MiB host→guest from the peer's source, every byte checked here. */
TEST_F(vsock, from_host)
{
	double t = now();

	rig_from_host(_metadata, self->fd, VSOCK_ID, 42, XFER_SIZE, XFER_CHUNK);
	t = now() - t;
	TH_LOG("host->guest: %d bytes in %.3f s (%.1f MB/s)", XFER_SIZE, t,
	       XFER_SIZE / t / 1e6);
}

/* The host going away is an EOF to the guest, as for a TCP stream. */
TEST_F(vsock, host_disconnect_is_eof)
{
	char c;

	ASSERT_EQ(0, rig_ctl_ok("disconnect %s", VSOCK_ID));
	ASSERT_LE(0, rig_poll(self->fd, POLLIN, ACCEPT_MS));
	EXPECT_EQ(0, read(self->fd, &c, 1));
}

/*
 * Nothing listens yet when the peer connects: the guest refuses, the
 * daemon hangs up, and the peer tries again until a child listens.
 */
TEST(connect_retries_until_listening)
{
	char reply[RIG_REPLY_MAX];
	int status, lfd, fd;
	pid_t pid;

	if (!have_vsock(reply, sizeof(reply)))
		SKIP(return, "the rig has no %s: %s", VSOCK_ID, reply);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		usleep(LATE_LISTEN_US);
		lfd = rig_vsock_listen(VSOCK_PORT);
		fd = lfd < 0 ? lfd : vsock_accept(lfd);
		_exit(fd < 0 ? 1 : 0);
	}
	EXPECT_EQ(0, rig_ctl_ok("connect %s", VSOCK_ID));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	rig_ctl_ok("disconnect %s", VSOCK_ID);
}

/* No listener at all: the peer gives up at its deadline and says why. */
TEST(connect_refused)
{
	char reply[RIG_REPLY_MAX];

	if (!have_vsock(reply, sizeof(reply)))
		SKIP(return, "the rig has no %s: %s", VSOCK_ID, reply);
	ASSERT_EQ(1, rig_ctl(reply, sizeof(reply), "connect %s", VSOCK_ID));
	EXPECT_STREQ("connect " VSOCK_ID ": Connection refused", reply);
}

TEST_HARNESS_MAIN
