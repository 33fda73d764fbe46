// SPDX-License-Identifier: GPL-2.0
/*
 * What a node knows about its port: the host connecting and going away
 * (sysfs host_connected and a change uevent), and the port being
 * hot-unplugged (sysfs unplugged, ENODEV and POLLHUP | POLLERR for an open
 * node, queued bytes dropped, the node removing itself at its last close,
 * ENXIO for a new open). Also: the module cannot be removed while a node
 * is open. Each test runs on a stacked node (test.spare and ports
 * hot-plugged on the second device, attached) and on a direct one
 * (direct.b and ports hot-plugged on the third device, which each test
 * claims and releases).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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

/*
 * Wait for a change uevent of the data node of @a carrying @kv: by its
 * name, as a direct node's path is under its virtio device.
 */
static int wait_uevent(int sock, const struct vportx_attach *a, const char *kv)
{
	char msg[4096], devname[64];
	ssize_t n;

	snprintf(devname, sizeof(devname), "DEVNAME=vportx%up%u",
		 a->port_dev, a->port_nr);
	while (rig_poll(sock, POLLIN, WAIT_MS) > 0) {
		n = recv(sock, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			return -EIO;
		msg[n] = '\0';
		if (uevent_has(msg, n, "ACTION=change") &&
		    uevent_has(msg, n, devname) && uevent_has(msg, n, kv))
			return 0;
	}
	return -ETIMEDOUT;
}

/* The spare port, and the hot-plugged ones, with each backend. */
FIXTURE(state) {
	int ctl;		/* the control device */
	unsigned int index;	/* direct: N of the claimed device */
	unsigned int spare_nr;	/* direct: M of the spare port */
	int claimed;
};

FIXTURE_VARIANT(state) {
	int direct;
	const char *spare;	/* a port no other test of the suite uses */
	int hot_dev;		/* the device ports are hot-plugged on ... */
	int hot_nr;		/* ... port hot.K at hot_nr + K */
	const char *closed_host;	/* host_connected, hold=open, closed */
};

/* A stacked node does not watch a closed port; a direct one hears all. */
FIXTURE_VARIANT_ADD(state, stacked) {
	.spare = "test.spare", .hot_dev = 1, .hot_nr = 20,
	.closed_host = "unknown",
};
FIXTURE_VARIANT_ADD(state, direct) {
	.direct = 1, .spare = "direct.b", .hot_dev = 2, .hot_nr = 1,
	.closed_host = "1",
};

/* Claim the device of the spare port: every port of it gets a node. */
static void claim_spare(struct __test_metadata *_metadata,
			FIXTURE_DATA(state) *self, const char *spare)
{
	int ret;

	ASSERT_EQ(0, rig_wait_port(spare, 1));
	ASSERT_EQ(0, vportx_stock_numbers(spare, &self->index,
					  &self->spare_nr));
	ret = vportx_claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, self->index,
				 VPORTX_HOLD_OPEN);
	ASSERT_EQ(0, ret) TH_LOG("claim: %s", strerror(-ret));
	self->claimed = 1;
}

FIXTURE_SETUP(state)
{
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl);
	ASSERT_EQ(0, rig_ctl_ok("reset %s", variant->spare));
	if (variant->direct)
		claim_spare(_metadata, self, variant->spare);
}

FIXTURE_TEARDOWN(state)
{
	if (self->claimed) {
		vportx_claim_ioctl(self->ctl, VPORTX_IOC_RELEASE, self->index,
				   0);
		EXPECT_EQ(0, rig_wait_port(variant->spare, 1));
	} else {
		vportx_release_port(self->ctl, variant->spare);
	}
	rig_ctl_ok("connect %s", variant->spare);
	close(self->ctl);
}

/*
 * The node of port @nr (direct) or @id (stacked) with hold policy @hold:
 * attached, or the claimed device's own node with its hold set in sysfs.
 */
static int node_of(FIXTURE_DATA(state) *self,
		   const FIXTURE_VARIANT(state) *variant, const char *id,
		   unsigned int nr, __u32 hold, struct vportx_attach *a)
{
	int ret;

	if (!variant->direct)
		return vportx_attach_port(self->ctl, id, hold, a);
	ret = vportx_find_direct(self->ctl, self->index, nr, a);
	if (ret)
		return ret;
	return vportx_node_sysfs_set(a, "hold", hold == VPORTX_HOLD_ALWAYS ?
					       "always" : "open");
}

static int spare_node(FIXTURE_DATA(state) *self,
		      const FIXTURE_VARIANT(state) *variant, __u32 hold,
		      struct vportx_attach *a)
{
	return node_of(self, variant, variant->spare, self->spare_nr, hold, a);
}

/*
 * Hot-plug port hot.@k and give its node with @hold in @a. A stacked
 * port is attached once its stock node is there; a claimed device makes
 * the node itself.
 */
static int hotplug(FIXTURE_DATA(state) *self,
		   const FIXTURE_VARIANT(state) *variant, int k, __u32 hold,
		   struct vportx_attach *a)
{
	int nr = variant->hot_nr + k, ret;
	char id[16];

	snprintf(id, sizeof(id), "hot.%d", k);
	ret = rig_ctl_ok("hotplug %s %s %d %d", id, id, variant->hot_dev, nr);
	if (!ret && !variant->direct)
		ret = rig_wait_port(id, 1);
	return ret ? ret : node_of(self, variant, id, nr, hold, a);
}

/*
 * Unplug port hot.@k. A stacked node learns of it from the port's file:
 * wait until the guest has removed the stock node. A direct node learns
 * from the device: the test waits for the node to say so.
 */
static int unplug(const FIXTURE_VARIANT(state) *variant, int k)
{
	int ret = rig_ctl_ok("unplug hot.%d", k);
	char id[16];

	snprintf(id, sizeof(id), "hot.%d", k);
	if (!ret && !variant->direct)
		ret = rig_wait_port(id, 0);
	return ret;
}

/* hold=always watches the port all along: sysfs follows the host. */
TEST_F(state, host_connected_follows_host)
{
	struct vportx_attach a;

	ASSERT_EQ(0, spare_node(self, variant, VPORTX_HOLD_ALWAYS, &a));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "1"));
	ASSERT_EQ(0, rig_ctl_ok("disconnect %s", variant->spare));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "0"));
	ASSERT_EQ(0, rig_ctl_ok("connect %s", variant->spare));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "1"));
	EXPECT_EQ(0, wait_attr(&a, "unplugged", "0"));
}

/*
 * hold=open: a stacked node has the port open only while the node is, so
 * the host is unknown otherwise; the device tells a direct node anyway.
 */
TEST_F(state, host_connected_while_closed)
{
	struct vportx_attach a;
	int fd;

	ASSERT_EQ(0, spare_node(self, variant, VPORTX_HOLD_OPEN, &a));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", variant->closed_host));
	fd = vportx_open_node_host(&a, WAIT_MS);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "1"));
	close(fd);
	EXPECT_EQ(0, wait_attr(&a, "host_connected", variant->closed_host));
}

TEST_F(state, change_uevent_on_host_change)
{
	int sock = uevent_socket();
	struct vportx_attach a;

	ASSERT_LE(0, sock);
	ASSERT_EQ(0, spare_node(self, variant, VPORTX_HOLD_ALWAYS, &a));
	/* A stacked node learns the host as it attaches; a direct one knew. */
	if (!variant->direct)
		EXPECT_EQ(0, wait_uevent(sock, &a, "VPORTX_HOST_CONNECTED=1"));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "1"));
	ASSERT_EQ(0, rig_ctl_ok("disconnect %s", variant->spare));
	EXPECT_EQ(0, wait_uevent(sock, &a, "VPORTX_HOST_CONNECTED=0"));
	ASSERT_EQ(0, rig_ctl_ok("connect %s", variant->spare));
	EXPECT_EQ(0, wait_uevent(sock, &a, "VPORTX_HOST_CONNECTED=1"));
	close(sock);
}

/* An open node sees the unplug, and the node goes at its last close. */
TEST_F(state, unplug_open_node)
{
	struct vportx_attach a;
	char c;
	int fd;

	ASSERT_EQ(0, hotplug(self, variant, 2, VPORTX_HOLD_ALWAYS, &a));
	fd = vportx_open_node_host(&a, WAIT_MS);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, unplug(variant, 2));
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

	ASSERT_EQ(0, hotplug(self, variant, 5, VPORTX_HOLD_OPEN, &a));
	fd = vportx_open_node_host(&a, WAIT_MS);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rig_ctl_ok("disconnect hot.5"));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "0"));
	ASSERT_EQ(0, vportx_node_sysfs_set(&a, "tx_drain_ms", "600000"));
	ASSERT_EQ((ssize_t)sizeof(buf), write(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, unplug(variant, 5));
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

	ASSERT_EQ(0, hotplug(self, variant, 3, VPORTX_HOLD_ALWAYS, &a));
	EXPECT_EQ(0, wait_attr(&a, "host_connected", "1"));
	ASSERT_EQ(0, unplug(variant, 3));
	EXPECT_EQ(0, wait_attr(&a, "unplugged", "gone"));
	EXPECT_EQ(-ENXIO, vportx_detach_minor(self->ctl, a.minor));
}

/*
 * A closed hold=open node has no port open to watch, on either backend:
 * it still goes with its port, without an open, within 2 s of the stock
 * node (the stock node goes at once too).
 */
TEST_F(state, unplug_closed_hold_open)
{
	struct vportx_attach a;
	char path[64];

	ASSERT_EQ(0, hotplug(self, variant, 4, VPORTX_HOLD_OPEN, &a));
	ASSERT_EQ(0, unplug(variant, 4));
	EXPECT_EQ(0, vportx_wait_attr(&a, "unplugged", "gone", 2000));
	vportx_node_path(&a, path, sizeof(path));
	EXPECT_EQ(0, vportx_wait_path(path, 0));
	EXPECT_EQ(-1, open(path, O_RDWR));
	EXPECT_EQ(ENOENT, errno);
}

/*
 * DETACH, over and over, against the node's last close after an unplug,
 * which frees it. Each DETACH must decide its errno while the node is
 * there: EBUSY while it is open (either backend), ENXIO
 * once it is gone, never 0 and never anything else. Up to 3eaf085,
 * DETACH read the node after dropping nodes_lock: with KASAN (the debug
 * kernel) that read of a freed node is a report, which fails the run
 * (Documentation/hardening.rst, "The destroy race").
 */
struct detach_hammer {
	int ctl;
	__u32 minor;
	unsigned long calls, busy, gone, other;
	int last_other;
};

static void *detach_hammer(void *arg)
{
	struct detach_hammer *h = arg;
	int ret;

	for (;;) {
		ret = vportx_detach_minor(h->ctl, h->minor);
		h->calls++;
		if (ret == -EBUSY) {
			h->busy++;
		} else if (ret == -ENXIO) {
			h->gone++;
			return NULL;
		} else {
			h->other++;
			h->last_other = ret;
			return NULL;
		}
	}
}

#define DETACH_RACE_ROUNDS 4

TEST_F_TIMEOUT(state, detach_races_last_close, 120)
{
	struct detach_hammer h = { .ctl = self->ctl };
	struct vportx_attach a;
	pthread_t t;
	int round, fd;

	for (round = 0; round < DETACH_RACE_ROUNDS; round++) {
		ASSERT_EQ(0, hotplug(self, variant, 6, VPORTX_HOLD_OPEN, &a));
		fd = vportx_open_node(&a, O_RDWR);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, unplug(variant, 6));
		ASSERT_EQ(0, wait_attr(&a, "unplugged", "1"));
		h.minor = a.minor;
		ASSERT_EQ(0, pthread_create(&t, NULL, detach_hammer, &h));
		/* Let it spin, so the close lands among its calls. */
		while (h.busy < 50 && !h.other && !h.gone)
			usleep(1000);
		close(fd);
		ASSERT_EQ(0, pthread_join(t, NULL));
		ASSERT_EQ(0, h.other)
			TH_LOG("round %d: DETACH said %s", round,
			       strerror(-h.last_other));
		EXPECT_EQ(0, wait_attr(&a, "unplugged", "gone"));
	}
	EXPECT_EQ(DETACH_RACE_ROUNDS, h.gone);
	TH_LOG("%lu DETACHes, %lu while open", h.calls, h.busy);
}

/* An open node pins the module: removing it would pull the rug. */
TEST_F(state, rmmod_refused_while_open)
{
	struct vportx_attach a;
	int fd;

	ASSERT_EQ(0, spare_node(self, variant, VPORTX_HOLD_OPEN, &a));
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
