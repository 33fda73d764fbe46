// SPDX-License-Identifier: GPL-2.0
/*
 * Sixteen ports attached at once, on the second virtio-serial device, each
 * moving its own data through its own vportx node in its own process at
 * the same time: every byte of every port verified end to end. Once with
 * every port attached (stacked), once with the device claimed (direct).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/vportx.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "vportx_util.h"

#define CTL_PATH "/dev/" VPORTX_CONTROL_NAME
#define MANY VPORTX_MANY
#define BYTES (1 << 20)
#define SEED 3000

FIXTURE(many) {
	int ctl;			/* the control device */
	struct vportx_attach a[MANY];	/* many.00 .. many.15's nodes */
	int fd[MANY];			/* their data nodes, open */
	unsigned int index;		/* direct: N of the claimed device */
	int claimed;
};

FIXTURE_VARIANT(many) {
	int direct;
};

/* Each port attached, or the whole device claimed. */
FIXTURE_VARIANT_ADD(many, stacked) { };
FIXTURE_VARIANT_ADD(many, direct) { .direct = 1 };

/* Claim the device of the many.* ports: each gets its direct node. */
static void claim_many(struct __test_metadata *_metadata,
		       FIXTURE_DATA(many) *self)
{
	unsigned int nr[MANY], index;
	char id[16];
	int i, ret;

	for (i = 0; i < MANY; i++) {
		vportx_many_id(i, id, sizeof(id));
		ASSERT_EQ(0, rig_wait_port(id, 1));
		ASSERT_EQ(0, vportx_stock_numbers(id, &index, &nr[i]));
		if (i) {
			ASSERT_EQ(self->index, index) TH_LOG("%s", id);
		}
		self->index = index;
	}
	ret = vportx_claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, self->index,
				 VPORTX_HOLD_OPEN);
	ASSERT_EQ(0, ret) TH_LOG("claim: %s", strerror(-ret));
	self->claimed = 1;
	for (i = 0; i < MANY; i++) {
		ret = vportx_find_direct(self->ctl, self->index, nr[i],
					 &self->a[i]);
		ASSERT_EQ(0, ret) TH_LOG("node %u: %s", nr[i], strerror(-ret));
	}
}

static void attach_many(struct __test_metadata *_metadata,
			FIXTURE_DATA(many) *self)
{
	char id[16];
	int i, ret;

	for (i = 0; i < MANY; i++) {
		vportx_many_id(i, id, sizeof(id));
		ret = vportx_attach_port(self->ctl, id, VPORTX_HOLD_OPEN,
					 &self->a[i]);
		ASSERT_EQ(0, ret) TH_LOG("attach %s: %s", id, strerror(-ret));
	}
}

FIXTURE_SETUP(many)
{
	int i;

	memset(self->fd, -1, sizeof(self->fd));
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl);
	for (i = 0; i < MANY; i++)
		ASSERT_EQ(0, vportx_many_connect(i));
	if (variant->direct)
		claim_many(_metadata, self);
	else
		attach_many(_metadata, self);
	for (i = 0; i < MANY; i++) {
		self->fd[i] = vportx_open_node_host(&self->a[i], 10000);
		ASSERT_LE(0, self->fd[i]) TH_LOG("many.%02d: %s", i,
						 strerror(-self->fd[i]));
	}
}

/*
 * Hand the device back to virtio_console with every host away: it would
 * lose a PORT_OPEN of 16 connected hosts at once, as at boot ("Stock
 * limits" in Documentation/rig.rst). The next test connects them late.
 */
static void release_many(struct __test_metadata *_metadata,
			 FIXTURE_DATA(many) *self)
{
	char id[16];
	int i;

	for (i = 0; i < MANY; i++) {
		vportx_many_id(i, id, sizeof(id));
		EXPECT_EQ(0, rig_ctl_ok("disconnect %s", id));
	}
	for (i = 0; i < MANY; i++) {
		EXPECT_EQ(0, vportx_wait_attr(&self->a[i], "host_connected",
					      "0", 10000)) TH_LOG("many.%02d", i);
	}
	vportx_claim_ioctl(self->ctl, VPORTX_IOC_RELEASE, self->index, 0);
}

FIXTURE_TEARDOWN(many)
{
	char id[16];
	int i;

	for (i = 0; i < MANY; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	if (self->claimed)
		release_many(_metadata, self);
	for (i = 0; i < MANY; i++) {
		vportx_many_id(i, id, sizeof(id));
		if (self->claimed) {
			EXPECT_EQ(0, rig_wait_port(id, 1));
		} else {
			vportx_release_port(self->ctl, id);
		}
		rig_ctl_ok("reset %s", id);
	}
	close(self->ctl);
}

/* 1 MiB each way on all 16 ports at once, every byte checked. */
TEST_F_TIMEOUT(many, all_ports_both_ways, 300)
{
	EXPECT_EQ(0, vportx_many_both_ways(self->fd, SEED, BYTES, 240000));
}

TEST_HARNESS_MAIN
