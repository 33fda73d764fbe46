// SPDX-License-Identifier: GPL-2.0
/*
 * A port's whole life with a host that acts first: it sends before the
 * attach, between the attach and the first open, while the node is closed
 * and while it is detached, and it has the port open before the guest app
 * lets vportx have it. Every byte is checked end to end, and the stock
 * port test.spare, in the same boot, is the control: where stock keeps a
 * byte, vportx must too. QEMU's own view of the port (VSERPORT_CHANGE, as
 * the peer saw it over QMP) must be stock's: open only while an
 * application has the node open with hold=open, from the attach with
 * hold=always. Documentation/vportx.rst, "Lifecycle", has the table.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/vportx.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "xfer.h"
#include "vportx_util.h"

#define CTL_PATH "/dev/" VPORTX_CONTROL_NAME
#define HOST_WAIT_MS 10000
#define MIB (1 << 20)
#define BIG (4 * MIB)		/* more than every queue on the way */
#define SMALL (64 << 10)
#define CONTROL "test.spare"	/* the stock port, never attached */
/* Long enough for bytes a wrong attach let in to arrive and be dropped. */
#define SETTLE_US 500000

/* Have the peer start sending @n bytes of pattern @seed on port @id. */
static int host_sends(const char *id, size_t n, uint64_t seed)
{
	return rig_ctl_ok("source %s %zu %" PRIu64, id, n, seed);
}

/* The peer's sender on @id has sent all @n bytes. */
static void host_sent(struct __test_metadata *_metadata, const char *id,
		      size_t n)
{
	char reply[RIG_REPLY_MAX], expect[64];

	ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "wait %s %d", id,
			     RIG_JOB_MS))
		TH_LOG("wait %s: %s", id, reply);
	snprintf(expect, sizeof(expect), "sent %zu", n);
	EXPECT_STREQ(expect, reply);
}

/* The sender on @id has written to its socket: the host acted. */
static void host_wrote(struct __test_metadata *_metadata, const char *id)
{
	char reply[RIG_REPLY_MAX];
	int i;

	for (i = 0; i < 500; i++) {
		ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "stats %s", id));
		if (!strstr(reply, " tx=0 "))
			return;
		usleep(10000);
	}
	ASSERT_TRUE(0) TH_LOG("%s: the host wrote nothing: %s", id, reply);
}

/*
 * QEMU sees port @id open (VSERPORT_CHANGE) as @open says; "none", no
 * event since QEMU started, is a port the guest never opened.
 */
static void host_sees(struct __test_metadata *_metadata, const char *id,
		      int open)
{
	char reply[RIG_REPLY_MAX], want[16];
	int i;

	snprintf(want, sizeof(want), "open=%d", open);
	for (i = 0; i < 300; i++) {
		ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "vserport %s", id));
		if (!strcmp(reply, want) || (!open && !strcmp(reply, "none")))
			return;
		usleep(10000);
	}
	EXPECT_STREQ(want, reply) TH_LOG("QEMU's view of %s", id);
}

/* Read exactly @n bytes of pattern @seed from @fd. */
static void recv_all(struct __test_metadata *_metadata, int fd, size_t n,
		     uint64_t seed)
{
	struct rig_recv res;

	ASSERT_EQ(0, rig_recv(fd, seed, n, 1 << 20, &res));
	EXPECT_EQ(-1, res.bad);
}

/* The stock control: open test.spare and read what its host sent. */
static void stock_recv(struct __test_metadata *_metadata, size_t n,
		       uint64_t seed)
{
	int fd = rig_port_open_host(CONTROL, O_RDWR, HOST_WAIT_MS);

	ASSERT_LE(0, fd) TH_LOG("%s: %s", CONTROL, strerror(-fd));
	recv_all(_metadata, fd, n, seed);
	close(fd);
}

FIXTURE(life) {
	int ctl;		/* /dev/vportx-control, open read-write */
	const char *main;	/* test.unix (stacked) or direct.a (direct) */
	unsigned int index;	/* direct: virtio@index, claimed in the test */
	unsigned int nr;	/* direct: direct.a's port number */
	int claimed;		/* direct: index is claimed */
	struct vportx_attach a;	/* the main port's node, once there */
	int fd;			/* that node, open read-write, or -1 */
};

FIXTURE_VARIANT(life) {
	__u32 hold;		/* VPORTX_HOLD_* */
	int direct;		/* claim direct.a's device, do not attach */
	uint64_t seed;		/* first pattern seed; tests add to it */
};

FIXTURE_VARIANT_ADD(life, stacked_hold_open) {
	.hold = VPORTX_HOLD_OPEN, .seed = 7000 };
FIXTURE_VARIANT_ADD(life, stacked_hold_always) {
	.hold = VPORTX_HOLD_ALWAYS, .seed = 7100 };
FIXTURE_VARIANT_ADD(life, direct_hold_open) {
	.hold = VPORTX_HOLD_OPEN, .direct = 1, .seed = 7200 };
FIXTURE_VARIANT_ADD(life, direct_hold_always) {
	.hold = VPORTX_HOLD_ALWAYS, .direct = 1, .seed = 7300 };

FIXTURE_SETUP(life)
{
	unsigned int nr_b;

	self->fd = -1;
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl) TH_LOG("%s: %s", CTL_PATH, strerror(errno));
	self->main = variant->direct ? "direct.a" : "test.unix";
	ASSERT_EQ(0, rig_ctl_ok("reset %s", self->main));
	ASSERT_EQ(0, rig_ctl_ok("reset %s", CONTROL));
	if (variant->direct) {
		ASSERT_EQ(0, vportx_direct_pair("direct.a", "direct.b",
						&self->index, &self->nr,
						&nr_b));
	} else {
		vportx_release_port(self->ctl, self->main);
	}
	/* Nothing has the port open: the host sees it closed, as at boot. */
	host_sees(_metadata, self->main, 0);
}

FIXTURE_TEARDOWN(life)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->claimed) {
		vportx_claim_ioctl(self->ctl, VPORTX_IOC_RELEASE, self->index,
				   0);
		EXPECT_EQ(0, rig_wait_port("direct.a", 1));
	} else {
		vportx_release_port(self->ctl, self->main);
	}
	rig_ctl_ok("reset %s", self->main);
	rig_ctl_ok("reset %s", CONTROL);
	close(self->ctl);
}

/* The port becomes vportx's: attached by O_PATH, or its device claimed. */
static void take_port(struct __test_metadata *_metadata,
		      FIXTURE_DATA(life) *self,
		      const FIXTURE_VARIANT(life) *variant)
{
	int ret;

	if (!variant->direct) {
		ret = vportx_attach_port(self->ctl, self->main, variant->hold,
					 &self->a);
		ASSERT_EQ(0, ret) TH_LOG("attach: %s", strerror(-ret));
		return;
	}
	ret = vportx_claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, self->index,
				 variant->hold);
	ASSERT_EQ(0, ret) TH_LOG("claim: %s", strerror(-ret));
	self->claimed = 1;
	ret = vportx_find_direct(self->ctl, self->index, self->nr, &self->a);
	ASSERT_EQ(0, ret) TH_LOG("direct node: %s", strerror(-ret));
}

static void open_node(struct __test_metadata *_metadata,
		      FIXTURE_DATA(life) *self)
{
	self->fd = vportx_open_node_host(&self->a, HOST_WAIT_MS);
	ASSERT_LE(0, self->fd) TH_LOG("node: %s", strerror(-self->fd));
}

static void close_node(FIXTURE_DATA(life) *self)
{
	close(self->fd);
	self->fd = -1;
}

/*
 * The seed's "async" case: 4 MiB sent before the port is attached (or its
 * device claimed), more than virtio_console's and QEMU's queues hold.
 * Attaching alone does not open the port for the host with hold=open.
 * The node reads all of it, as the stock node of test.spare does, and
 * carries 1 MiB back the other way.
 */
TEST_F_TIMEOUT(life, host_sent_before_attach, 300)
{
	uint64_t seed = variant->seed;

	ASSERT_EQ(0, host_sends(self->main, BIG, seed));
	ASSERT_EQ(0, host_sends(CONTROL, BIG, seed + 1));
	host_wrote(_metadata, self->main);
	take_port(_metadata, self, variant);
	usleep(SETTLE_US);
	host_sees(_metadata, self->main, variant->hold == VPORTX_HOLD_ALWAYS);
	open_node(_metadata, self);
	host_sees(_metadata, self->main, 1);
	recv_all(_metadata, self->fd, BIG, seed);
	host_sent(_metadata, self->main, BIG);
	stock_recv(_metadata, BIG, seed + 1);
	host_sent(_metadata, CONTROL, BIG);
	rig_to_host(_metadata, self->fd, self->main, seed + 2, MIB, 65536);
	close_node(self);
	host_sees(_metadata, self->main, variant->hold == VPORTX_HOLD_ALWAYS);
}

/* The host sends between the attach and the first open: all of it reads. */
TEST_F_TIMEOUT(life, host_sends_before_open, 300)
{
	uint64_t seed = variant->seed + 10;

	take_port(_metadata, self, variant);
	ASSERT_EQ(0, host_sends(self->main, BIG, seed));
	host_wrote(_metadata, self->main);
	usleep(SETTLE_US);
	open_node(_metadata, self);
	recv_all(_metadata, self->fd, BIG, seed);
	host_sent(_metadata, self->main, BIG);
}

/*
 * The host sends while the attach happens: the attach comes right after
 * the request, while the sender starts.
 */
TEST_F_TIMEOUT(life, host_sends_during_attach, 300)
{
	uint64_t seed = variant->seed + 20;

	ASSERT_EQ(0, host_sends(self->main, BIG, seed));
	take_port(_metadata, self, variant);
	open_node(_metadata, self);
	recv_all(_metadata, self->fd, BIG, seed);
	host_sent(_metadata, self->main, BIG);
}

/*
 * Close and reopen with bytes unread. hold=open over the stacked backend
 * closes the stock port, and virtio_console drops what it had received
 * and nobody read, exactly as for the stock node (the control here): the
 * next read starts with what the host sends after the reopen. Every other
 * case keeps them for the next reader.
 */
TEST_F_TIMEOUT(life, close_with_bytes_unread, 300)
{
	uint64_t seed = variant->seed + 30;
	int drops = !variant->direct && variant->hold == VPORTX_HOLD_OPEN;
	int fd;

	take_port(_metadata, self, variant);
	open_node(_metadata, self);
	fd = rig_port_open_host(CONTROL, O_RDWR, HOST_WAIT_MS);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, host_sends(self->main, SMALL, seed));
	ASSERT_EQ(0, host_sends(CONTROL, SMALL, seed + 1));
	host_sent(_metadata, self->main, SMALL);
	host_sent(_metadata, CONTROL, SMALL);
	ASSERT_EQ(0, rig_wait_unread_zero(self->main));
	ASSERT_EQ(0, rig_wait_unread_zero(CONTROL));
	close_node(self);
	close(fd);
	ASSERT_EQ(0, host_sends(self->main, 4096, seed + 2));
	ASSERT_EQ(0, host_sends(CONTROL, 4096, seed + 3));
	open_node(_metadata, self);
	if (!drops)
		recv_all(_metadata, self->fd, SMALL, seed);
	recv_all(_metadata, self->fd, 4096, seed + 2);
	/* The stock node always drops them: the rig can tell. */
	stock_recv(_metadata, 4096, seed + 3);
}

FIXTURE(stacked) {
	int ctl;		/* /dev/vportx-control, open read-write */
	struct vportx_attach a;	/* test.unix's node */
	int fd;			/* that node, or the stock node, or -1 */
};

FIXTURE_VARIANT(stacked) {
	__u32 hold;		/* VPORTX_HOLD_* */
	uint64_t seed;		/* first pattern seed; tests add to it */
};

FIXTURE_VARIANT_ADD(stacked, hold_open) {
	.hold = VPORTX_HOLD_OPEN, .seed = 7500 };
FIXTURE_VARIANT_ADD(stacked, hold_always) {
	.hold = VPORTX_HOLD_ALWAYS, .seed = 7600 };

FIXTURE_SETUP(stacked)
{
	self->fd = -1;
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl) TH_LOG("%s: %s", CTL_PATH, strerror(errno));
	ASSERT_EQ(0, rig_ctl_ok("reset test.unix"));
	vportx_release_port(self->ctl, "test.unix");
}

FIXTURE_TEARDOWN(stacked)
{
	if (self->fd >= 0)
		close(self->fd);
	vportx_release_port(self->ctl, "test.unix");
	rig_ctl_ok("reset test.unix");
	close(self->ctl);
}

/*
 * Detach with bytes the host sent: a hold=open node's port is closed, so
 * QEMU still has them and the stock node reads them afterwards. A
 * hold=always node's port would drop them at close: EBUSY until they are
 * read. Then the host sends while the port is detached, and a new attach
 * reads that.
 */
TEST_F_TIMEOUT(stacked, detach_and_reattach, 300)
{
	uint64_t seed = variant->seed;

	ASSERT_EQ(0, vportx_attach_port(self->ctl, "test.unix", variant->hold,
					&self->a));
	ASSERT_EQ(0, host_sends("test.unix", SMALL, seed));
	host_wrote(_metadata, "test.unix");
	usleep(SETTLE_US);
	if (variant->hold == VPORTX_HOLD_ALWAYS) {
		/* QEMU has passed everything on: the port has it. */
		ASSERT_EQ(0, rig_wait_unread_zero("test.unix"));
		EXPECT_EQ(-EBUSY, vportx_detach_minor(self->ctl, self->a.minor));
		self->fd = vportx_open_node_host(&self->a, HOST_WAIT_MS);
	} else {
		ASSERT_EQ(0, vportx_detach_minor(self->ctl, self->a.minor));
		self->fd = rig_port_open_host("test.unix", O_RDWR,
					      HOST_WAIT_MS);
	}
	ASSERT_LE(0, self->fd);
	recv_all(_metadata, self->fd, SMALL, seed);
	close(self->fd);
	self->fd = -1;
	host_sent(_metadata, "test.unix", SMALL);
	if (variant->hold == VPORTX_HOLD_ALWAYS)
		ASSERT_EQ(0, vportx_detach_minor(self->ctl, self->a.minor));
	/* Detached: the host sends, and the next attach reads it all. */
	ASSERT_EQ(0, host_sends("test.unix", MIB, seed + 1));
	host_wrote(_metadata, "test.unix");
	ASSERT_EQ(0, vportx_attach_port(self->ctl, "test.unix", variant->hold,
					&self->a));
	self->fd = vportx_open_node_host(&self->a, HOST_WAIT_MS);
	ASSERT_LE(0, self->fd);
	recv_all(_metadata, self->fd, MIB, seed + 1);
	host_sent(_metadata, "test.unix", MIB);
}

/*
 * An application has the stock node open when the port is attached. With
 * hold=open the attach opens nothing and succeeds; the node is EBUSY
 * until the application closes, and it reads every byte meanwhile. With
 * hold=always the attach needs the port: EBUSY, and nothing is lost.
 */
TEST_F_TIMEOUT(stacked, attach_while_stock_open, 300)
{
	uint64_t seed = variant->seed + 10;
	int fd = rig_port_open_host("test.unix", O_RDWR, HOST_WAIT_MS);
	int ret;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, host_sends("test.unix", SMALL, seed));
	ret = vportx_attach_port(self->ctl, "test.unix", variant->hold,
				 &self->a);
	if (variant->hold == VPORTX_HOLD_ALWAYS) {
		EXPECT_EQ(-EBUSY, ret);
	} else {
		ASSERT_EQ(0, ret);
		EXPECT_EQ(-EBUSY, vportx_open_node(&self->a, O_RDWR));
	}
	recv_all(_metadata, fd, SMALL, seed);
	host_sent(_metadata, "test.unix", SMALL);
	close(fd);
	if (variant->hold == VPORTX_HOLD_ALWAYS)
		return;
	ASSERT_EQ(0, host_sends("test.unix", SMALL, seed + 1));
	self->fd = vportx_open_node_host(&self->a, HOST_WAIT_MS);
	ASSERT_LE(0, self->fd);
	recv_all(_metadata, self->fd, SMALL, seed + 1);
}

/*
 * The way before O_PATH: attach by the open stock node. With hold=always
 * vportx takes that open file over, so what the host sent once the
 * caller opened the port is still there for the node.
 */
TEST(attach_by_open_port_keeps_bytes)
{
	int ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC), fd, node;
	struct vportx_attach a;

	ASSERT_LE(0, ctl);
	vportx_release_port(ctl, "test.unix");
	ASSERT_EQ(0, rig_ctl_ok("reset test.unix"));
	fd = rig_port_open_host("test.unix", O_RDWR, HOST_WAIT_MS);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, host_sends("test.unix", SMALL, 7700));
	host_sent(_metadata, "test.unix", SMALL);
	ASSERT_EQ(0, rig_wait_unread_zero("test.unix"));
	ASSERT_EQ(0, vportx_attach_fd(ctl, fd, VPORTX_HOLD_ALWAYS, &a));
	close(fd);
	node = vportx_open_node_host(&a, HOST_WAIT_MS);
	ASSERT_LE(0, node);
	recv_all(_metadata, node, SMALL, 7700);
	close(node);
	EXPECT_EQ(0, vportx_detach_minor(ctl, a.minor));
	close(ctl);
}

/*
 * RELEASE of direct.a's device, claimed with @hold, after its host sent:
 * with hold=open the port never opened, QEMU kept the bytes and the stock
 * node reads them once virtio_console has the device back. With
 * hold=always the closed node has them: EBUSY until they are read.
 */
static void release_after_host_sent(struct __test_metadata *_metadata,
				    int ctl, unsigned int index,
				    unsigned int nr, __u32 hold, uint64_t seed)
{
	struct vportx_attach a;
	int fd;

	ASSERT_EQ(0, vportx_claim_ioctl(ctl, VPORTX_IOC_CLAIM, index, hold));
	ASSERT_EQ(0, vportx_find_direct(ctl, index, nr, &a));
	ASSERT_EQ(0, host_sends("direct.a", SMALL, seed));
	host_wrote(_metadata, "direct.a");
	if (hold == VPORTX_HOLD_ALWAYS) {
		host_sent(_metadata, "direct.a", SMALL);
		ASSERT_EQ(0, rig_wait_unread_zero("direct.a"));
		EXPECT_EQ(-EBUSY, vportx_claim_ioctl(ctl, VPORTX_IOC_RELEASE,
						     index, 0));
		fd = vportx_open_node_host(&a, HOST_WAIT_MS);
	} else {
		usleep(SETTLE_US);
		ASSERT_EQ(0, vportx_claim_ioctl(ctl, VPORTX_IOC_RELEASE, index,
						0));
		ASSERT_EQ(0, rig_wait_port("direct.a", 1));
		fd = rig_port_open_host("direct.a", O_RDWR, HOST_WAIT_MS);
	}
	ASSERT_LE(0, fd);
	recv_all(_metadata, fd, SMALL, seed);
	close(fd);
	if (hold == VPORTX_HOLD_ALWAYS) {
		EXPECT_EQ(0, vportx_claim_ioctl(ctl, VPORTX_IOC_RELEASE, index,
						0));
		EXPECT_EQ(0, rig_wait_port("direct.a", 1));
	} else {
		host_sent(_metadata, "direct.a", SMALL);
	}
}

FIXTURE(release) {
	int ctl;		/* /dev/vportx-control, open read-write */
	unsigned int index;	/* direct.a's device, virtio@index */
	unsigned int nr;	/* direct.a's port number on it */
};

FIXTURE_SETUP(release)
{
	unsigned int nr_b;

	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl);
	ASSERT_EQ(0, rig_ctl_ok("reset direct.a"));
	ASSERT_EQ(0, vportx_direct_pair("direct.a", "direct.b", &self->index,
					&self->nr, &nr_b));
}

/* A test that failed half-way may leave the device claimed. */
FIXTURE_TEARDOWN(release)
{
	vportx_claim_ioctl(self->ctl, VPORTX_IOC_RELEASE, self->index, 0);
	rig_wait_port("direct.a", 1);
	rig_ctl_ok("reset direct.a");
	close(self->ctl);
}

TEST_F_TIMEOUT(release, with_bytes_unread, 300)
{
	release_after_host_sent(_metadata, self->ctl, self->index, self->nr,
				VPORTX_HOLD_OPEN, 7800);
	ASSERT_EQ(0, rig_ctl_ok("reset direct.a"));
	release_after_host_sent(_metadata, self->ctl, self->index, self->nr,
				VPORTX_HOLD_ALWAYS, 7900);
}

TEST_HARNESS_MAIN
