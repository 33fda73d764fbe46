// SPDX-License-Identifier: GPL-2.0
/*
 * What a node knows about its port: the host connecting and going away
 * (sysfs host_connected and a change uevent), and the port being
 * hot-unplugged (sysfs unplugged, ENODEV and POLLHUP | POLLERR for an open
 * node, queued bytes dropped, the node removing itself at its last close,
 * ENXIO for a new open). Also: the module cannot be removed while a node
 * is open.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/vportx.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "vportx_util.h"

#define CTL_PATH "/dev/" VPORTX_CONTROL_NAME
#define WAIT_MS 10000

/* Wait until sysfs attribute @attr of @a reads @want ("gone": no node). */
static int wait_attr(const struct vportx_attach *a, const char *attr,
		     const char *want)
{
	return vportx_wait_attr(a, attr, want, WAIT_MS);
}

/* Hot-plug port @id on the second device at @nr and wait for its node. */
static int hotplug(const char *id, int nr)
{
	int ret = rig_ctl_ok("hotplug %s %s 1 %d", id, id, nr);

	return ret ? ret : rig_wait_port(id, 1);
}

/* Unplug port @id and wait until the guest has removed its stock node. */
static int unplug(const char *id)
{
	int ret = rig_ctl_ok("unplug %s", id);

	return ret ? ret : rig_wait_port(id, 0);
}

/* A socket on the kernel's uevent multicast group. */
static int uevent_socket(void)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_KOBJECT_UEVENT);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Does the uevent in @msg (@len bytes of NUL-separated strings) have @kv? */
static int uevent_has(const char *msg, size_t len, const char *kv)
{
	size_t off;

	for (off = 0; off < len; off += strlen(msg + off) + 1)
		if (!strcmp(msg + off, kv))
			return 1;
	return 0;
}

/* Wait for a change uevent of the data node of @a carrying @kv. */
static int wait_uevent(int sock, const struct vportx_attach *a, const char *kv)
{
	char msg[4096], devpath[96];
	ssize_t n;

	snprintf(devpath, sizeof(devpath),
		 "DEVPATH=/devices/virtual/vportx/vportx%up%u",
		 a->port_dev, a->port_nr);
	while (rig_poll(sock, POLLIN, WAIT_MS) > 0) {
		n = recv(sock, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			return -EIO;
		msg[n] = '\0';
		if (uevent_has(msg, n, "ACTION=change") &&
		    uevent_has(msg, n, devpath) && uevent_has(msg, n, kv))
			return 0;
	}
	return -ETIMEDOUT;
}

FIXTURE(state) {
	int ctl;	/* the control device */
};

FIXTURE_SETUP(state)
{
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl);
	ASSERT_EQ(0, rig_ctl_ok("reset test.spare"));
}

FIXTURE_TEARDOWN(state)
{
	vportx_release_port(self->ctl, "test.spare");
	rig_ctl_ok("connect test.spare");
	close(self->ctl);
}

/* hold=always watches the port all along: sysfs follows the host. */
TEST_F(state, host_connected_follows_host)
{
	struct vportx_attach a;

	ASSERT_EQ(0, vportx_attach_port(self->ctl, "test.spare",
					VPORTX_HOLD_ALWAYS, &a));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "1"));
	ASSERT_EQ(0, rig_ctl_ok("disconnect test.spare"));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "0"));
	ASSERT_EQ(0, rig_ctl_ok("connect test.spare"));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "1"));
	EXPECT_EQ(0, wait_attr(&a, "unplugged", "0"));
}

/* hold=open has the port open only with the node: unknown otherwise. */
TEST_F(state, host_connected_unknown_while_closed)
{
	struct vportx_attach a;
	int fd;

	ASSERT_EQ(0, vportx_attach_port(self->ctl, "test.spare",
					VPORTX_HOLD_OPEN, &a));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "unknown"));
	fd = vportx_open_node_host(&a, WAIT_MS);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "1"));
	close(fd);
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "unknown"));
}

TEST_F(state, change_uevent_on_host_change)
{
	int sock = uevent_socket();
	struct vportx_attach a;

	ASSERT_LE(0, sock);
	ASSERT_EQ(0, vportx_attach_port(self->ctl, "test.spare",
					VPORTX_HOLD_ALWAYS, &a));
	EXPECT_EQ(0, wait_uevent(sock, &a, "VPORTX_HOST_CONNECTED=1"));
	ASSERT_EQ(0, rig_ctl_ok("disconnect test.spare"));
	EXPECT_EQ(0, wait_uevent(sock, &a, "VPORTX_HOST_CONNECTED=0"));
	ASSERT_EQ(0, rig_ctl_ok("connect test.spare"));
	EXPECT_EQ(0, wait_uevent(sock, &a, "VPORTX_HOST_CONNECTED=1"));
	close(sock);
}

/* An open node sees the unplug, and the node goes at its last close. */
TEST_F(state, unplug_open_node)
{
	struct vportx_attach a;
	char c;
	int fd;

	ASSERT_EQ(0, hotplug("hot.2", 22));
	ASSERT_EQ(0, vportx_attach_port(self->ctl, "hot.2",
					VPORTX_HOLD_ALWAYS, &a));
	fd = vportx_open_node_host(&a, WAIT_MS);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, unplug("hot.2"));
	EXPECT_EQ(0, wait_attr(&a, "unplugged", "1"));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "0"));
	EXPECT_EQ(-1, read(fd, &c, 1));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(POLLHUP, rig_poll(fd, POLLIN, 1000) & POLLHUP);
	EXPECT_EQ(-EBUSY, vportx_detach_minor(self->ctl, a.minor));
	close(fd);
	EXPECT_EQ(0, wait_attr(&a, "unplugged", "gone"));
	EXPECT_EQ(-ENXIO, vportx_detach_minor(self->ctl, a.minor));
}

/*
 * Unplugged with bytes queued for a host that is away: write and fsync get
 * ENODEV, poll POLLHUP | POLLERR, and the last close drops the queue
 * without waiting for tx_drain_ms.
 */
TEST_F(state, unplug_with_bytes_queued)
{
	struct vportx_attach a;
	char buf[10000] = { 0 };
	int fd;

	ASSERT_EQ(0, hotplug("hot.5", 25));
	ASSERT_EQ(0, vportx_attach_port(self->ctl, "hot.5", VPORTX_HOLD_OPEN,
					&a));
	fd = vportx_open_node_host(&a, WAIT_MS);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rig_ctl_ok("disconnect hot.5"));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "0"));
	ASSERT_EQ(0, vportx_node_sysfs_set(&a, "tx_drain_ms", "600000"));
	ASSERT_EQ((ssize_t)sizeof(buf), write(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, unplug("hot.5"));
	EXPECT_EQ(0, wait_attr(&a, "unplugged", "1"));
	EXPECT_EQ(-1, write(fd, buf, 1));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, fsync(fd));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(POLLHUP | POLLERR,
		  rig_poll(fd, POLLIN, 1000) & (POLLHUP | POLLERR));
	EXPECT_EQ((long long)sizeof(buf), vportx_node_counter(&a, "tx_queued"));
	close(fd);
	EXPECT_EQ(0, wait_attr(&a, "unplugged", "gone"));
}

/* Nobody had it open: a hold=always node goes by itself. */
TEST_F(state, unplug_closed_hold_always)
{
	struct vportx_attach a;

	ASSERT_EQ(0, hotplug("hot.3", 23));
	ASSERT_EQ(0, vportx_attach_port(self->ctl, "hot.3",
					VPORTX_HOLD_ALWAYS, &a));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "1"));
	ASSERT_EQ(0, unplug("hot.3"));
	EXPECT_EQ(0, wait_attr(&a, "unplugged", "gone"));
	EXPECT_EQ(-ENXIO, vportx_detach_minor(self->ctl, a.minor));
}

/* hold=open does not watch a closed port: the next open finds it gone. */
TEST_F(state, unplug_closed_hold_open)
{
	struct vportx_attach a;
	char path[64];

	ASSERT_EQ(0, hotplug("hot.4", 24));
	ASSERT_EQ(0, vportx_attach_port(self->ctl, "hot.4", VPORTX_HOLD_OPEN,
					&a));
	ASSERT_EQ(0, unplug("hot.4"));
	vportx_node_path(&a, path, sizeof(path));
	EXPECT_EQ(-1, open(path, O_RDWR));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(0, wait_attr(&a, "unplugged", "gone"));
}

/* An open node pins the module: removing it would pull the rug. */
TEST_F(state, rmmod_refused_while_open)
{
	struct vportx_attach a;
	int fd;

	ASSERT_EQ(0, vportx_attach_port(self->ctl, "test.spare",
					VPORTX_HOLD_OPEN, &a));
	fd = vportx_open_node(&a, O_RDWR);
	ASSERT_LE(0, fd);
	/* The control fd pins the module too: only the node may, here. */
	close(self->ctl);
	EXPECT_EQ(-1, syscall(SYS_delete_module, "vportx", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	close(fd);
	ASSERT_LE(0, self->ctl);
	EXPECT_EQ(0, access("/sys/module/vportx", F_OK));
}

TEST_HARNESS_MAIN
