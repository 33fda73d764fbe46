// SPDX-License-Identifier: GPL-2.0
/*
 * The vportx control device /dev/vportx-control: ATTACH, DETACH and INFO as
 * include/uapi/linux/vportx.h defines them, with every error it lists (each
 * asserted as -1 and the exact errno), privilege checks as nobody, the
 * output fields of ATTACH and INFO, node iteration, and proof that DETACH
 * hands the stock port back. Only test.unix and test.spare are attached;
 * every test detaches what it attached, and each fixture first detaches
 * whatever an earlier test that died may have left on those two ports.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vportx.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "vportx_util.h"

#define CTL_PATH "/dev/" VPORTX_CONTROL_NAME
/* A minor no test ever gets: the rig attaches at most a handful of ports. */
#define UNUSED_MINOR 4000
#define MAX_ATTACHED 4

/* 0 for EACCES, 255 if the open succeeded, else the errno it got. */
static int nobody_open(int ctl, int fd)
{
	(void)ctl;
	(void)fd;
	if (open(CTL_PATH, O_RDWR) >= 0)
		return 255;
	return errno == EACCES ? 0 : errno;
}

/* 0 for EPERM, 255 if the attach succeeded, else the errno it got. */
static int nobody_attach(int ctl, int fd)
{
	struct vportx_attach a;

	vportx_init_attach(&a, fd, VPORTX_HOLD_OPEN);
	if (!ioctl(ctl, VPORTX_IOC_ATTACH, &a))
		return 255;
	return errno == EPERM ? 0 : errno;
}

FIXTURE(ctl) {
	int ctl;		/* /dev/vportx-control, open read-write */
	int fd;			/* a file the test offers to ATTACH, or -1 */
	int node;		/* a data node the test opened, or -1 */
	int nminors;		/* how many nodes the test attached */
	__u32 minors[MAX_ATTACHED];	/* their minors, detached in teardown */
};

FIXTURE_SETUP(ctl)
{
	self->fd = -1;
	self->node = -1;
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl)
		TH_LOG("%s: %s (is vportx.ko loaded?)", CTL_PATH,
		       strerror(errno));
	vportx_release_port(self->ctl, "test.unix");
	vportx_release_port(self->ctl, "test.spare");
}

FIXTURE_TEARDOWN(ctl)
{
	int i;

	if (self->node >= 0)
		close(self->node);
	if (self->fd >= 0)
		close(self->fd);
	for (i = 0; i < self->nminors; i++)
		vportx_detach_minor(self->ctl, self->minors[i]);
	vportx_release_port(self->ctl, "test.unix");
	vportx_release_port(self->ctl, "test.spare");
	close(self->ctl);
}

/* Attach the port named @name the documented way; the test detaches it. */
static void attach_ok(struct __test_metadata *_metadata, FIXTURE_DATA(ctl) *self,
		      const char *name, __u32 hold, struct vportx_attach *a)
{
	int fd = rig_port_open(name, O_RDWR), ret;

	ASSERT_LE(0, fd) TH_LOG("open %s: %s", name, strerror(-fd));
	ret = vportx_attach_fd(self->ctl, fd, hold, a);
	close(fd);
	ASSERT_EQ(0, ret) TH_LOG("attach %s: %s", name, strerror(-ret));
	ASSERT_GT(MAX_ATTACHED, self->nminors);
	self->minors[self->nminors++] = a->minor;
}

/* Detach @minor, which the test attached, and forget it. */
static void detach_ok(struct __test_metadata *_metadata, FIXTURE_DATA(ctl) *self,
		      __u32 minor)
{
	int i;

	ASSERT_EQ(0, vportx_detach_minor(self->ctl, minor));
	for (i = 0; i < self->nminors; i++)
		if (self->minors[i] == minor)
			self->minors[i] = self->minors[--self->nminors];
}

/*
 * ATTACH of test.unix with the fields of @a (fd filled in here) fails with
 * @err and leaves nothing behind: a valid attach right after succeeds.
 */
static void attach_rejected(struct __test_metadata *_metadata,
			    FIXTURE_DATA(ctl) *self, struct vportx_attach *a,
			    int err)
{
	struct vportx_attach ok;

	self->fd = rig_port_open("test.unix", O_RDWR);
	ASSERT_LE(0, self->fd);
	a->fd = self->fd;
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_ATTACH, a));
	EXPECT_EQ(err, errno);
	close(self->fd);
	self->fd = -1;
	attach_ok(_metadata, self, "test.unix", VPORTX_HOLD_OPEN, &ok);
}

/* ATTACH of the file open at self->fd fails with @err. */
static void attach_file_rejected(struct __test_metadata *_metadata,
				 FIXTURE_DATA(ctl) *self, int err)
{
	struct vportx_attach a;

	ASSERT_LE(0, self->fd) TH_LOG("could not open the file to offer");
	vportx_init_attach(&a, self->fd, VPORTX_HOLD_OPEN);
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_ATTACH, &a));
	EXPECT_EQ(err, errno);
}

/* A root-only character device; missing it fails the setup above. */
TEST_F(ctl, control_node_root_only)
{
	struct stat st;

	ASSERT_EQ(0, stat(CTL_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

TEST_F(ctl, nonroot_open_eacces)
{
	int ret = vportx_as_nobody(nobody_open, -1, -1);

	EXPECT_EQ(0, ret) TH_LOG("nobody's open of %s: %s", CTL_PATH,
				 ret == 255 ? "succeeded" : strerror(ret));
}

/* Even with a control fd root opened, ATTACH needs CAP_SYS_ADMIN. */
TEST_F(ctl, nonroot_attach_eperm)
{
	int ret;

	self->fd = rig_port_open("test.unix", O_RDWR);
	ASSERT_LE(0, self->fd);
	ret = vportx_as_nobody(nobody_attach, self->ctl, self->fd);
	EXPECT_EQ(0, ret) TH_LOG("nobody's attach: %s",
				 ret == 255 ? "succeeded" : strerror(ret));
}

TEST_F(ctl, attach_fd_minus_one_ebadf)
{
	struct vportx_attach a;

	vportx_init_attach(&a, -1, VPORTX_HOLD_OPEN);
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_ATTACH, &a));
	EXPECT_EQ(EBADF, errno);
}

TEST_F(ctl, attach_unopened_fd_ebadf)
{
	struct vportx_attach a;
	int fd = dup(self->ctl);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	vportx_init_attach(&a, fd, VPORTX_HOLD_OPEN);
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_ATTACH, &a));
	EXPECT_EQ(EBADF, errno);
}

TEST_F(ctl, attach_regular_file_einval)
{
	char path[] = "/tmp/vportx-control-XXXXXX";

	self->fd = mkstemp(path);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, unlink(path));
	attach_file_rejected(_metadata, self, EINVAL);
}

TEST_F(ctl, attach_dev_null_einval)
{
	self->fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	attach_file_rejected(_metadata, self, EINVAL);
}

TEST_F(ctl, attach_tty_einval)
{
	self->fd = open("/dev/ttyS0", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (self->fd < 0)
		self->fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(1, isatty(self->fd));
	attach_file_rejected(_metadata, self, EINVAL);
}

TEST_F(ctl, attach_directory_einval)
{
	self->fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	attach_file_rejected(_metadata, self, EINVAL);
}

/* An O_PATH descriptor names a port, or nothing vportx takes. */
TEST_F(ctl, attach_o_path_not_a_port_einval)
{
	self->fd = open("/dev/null", O_PATH | O_CLOEXEC);
	attach_file_rejected(_metadata, self, EINVAL);
}

/* A port must be open for reading and writing (Documentation/vportx.rst). */
TEST_F(ctl, attach_read_only_port_einval)
{
	self->fd = rig_port_open("test.unix", O_RDONLY);
	attach_file_rejected(_metadata, self, EINVAL);
}

TEST_F(ctl, attach_control_fd_einval)
{
	self->fd = dup(self->ctl);
	attach_file_rejected(_metadata, self, EINVAL);
}

/* vportx does not stack on itself. */
TEST_F(ctl, attach_vportx_node_einval)
{
	struct vportx_attach a;

	attach_ok(_metadata, self, "test.unix", VPORTX_HOLD_OPEN, &a);
	self->fd = vportx_open_node(&a, O_RDWR);
	attach_file_rejected(_metadata, self, EINVAL);
}

TEST_F(ctl, attach_unknown_flags_einval)
{
	struct vportx_attach a;

	vportx_init_attach(&a, -1, VPORTX_HOLD_OPEN);
	a.flags = 1U << 31;
	attach_rejected(_metadata, self, &a, EINVAL);
	detach_ok(_metadata, self, self->minors[0]);
	vportx_init_attach(&a, -1, VPORTX_HOLD_OPEN);
	a.flags = 1U << 0;
	attach_rejected(_metadata, self, &a, EINVAL);
}

/* The low watermark is below the limit, the default one or the given. */
TEST_F(ctl, attach_tx_low_not_below_limit_einval)
{
	struct vportx_attach a;

	vportx_init_attach(&a, -1, VPORTX_HOLD_OPEN);
	a.tx_low = VPORTX_TX_LIMIT_DEFAULT;
	attach_rejected(_metadata, self, &a, EINVAL);
	detach_ok(_metadata, self, self->minors[0]);
	vportx_init_attach(&a, -1, VPORTX_HOLD_OPEN);
	a.tx_limit = 8192;
	a.tx_low = 8192;
	attach_rejected(_metadata, self, &a, EINVAL);
	detach_ok(_metadata, self, self->minors[0]);
	vportx_init_attach(&a, -1, VPORTX_HOLD_OPEN);
	a.tx_limit = 8192;
	a.tx_low = 0xffffffff;
	attach_rejected(_metadata, self, &a, EINVAL);
}

TEST_F(ctl, attach_reserved_einval)
{
	struct vportx_attach a;
	int i;

	for (i = 0; i < 4; i++) {
		vportx_init_attach(&a, -1, VPORTX_HOLD_OPEN);
		a.__reserved[i] = 1ULL << 63;
		attach_rejected(_metadata, self, &a, EINVAL);
		detach_ok(_metadata, self, self->minors[0]);
	}
}

TEST_F(ctl, attach_bad_hold_einval)
{
	struct vportx_attach a;

	vportx_init_attach(&a, -1, 7);
	attach_rejected(_metadata, self, &a, EINVAL);
}

TEST_F(ctl, attach_tx_limit_below_min_einval)
{
	struct vportx_attach a;

	vportx_init_attach(&a, -1, VPORTX_HOLD_OPEN);
	a.tx_limit = 1;
	attach_rejected(_metadata, self, &a, EINVAL);
	detach_ok(_metadata, self, self->minors[0]);
	vportx_init_attach(&a, -1, VPORTX_HOLD_OPEN);
	a.tx_limit = VPORTX_TX_LIMIT_MIN - 1;
	attach_rejected(_metadata, self, &a, EINVAL);
}

TEST_F(ctl, attach_tx_limit_above_max_einval)
{
	struct vportx_attach a;

	vportx_init_attach(&a, -1, VPORTX_HOLD_OPEN);
	a.tx_limit = VPORTX_TX_LIMIT_MAX + 1;
	attach_rejected(_metadata, self, &a, EINVAL);
}

/*
 * Both ends of the tx_limit range are accepted, with the highest tx_low
 * and the default one, and reported by INFO and sysfs.
 */
TEST_F(ctl, attach_tx_limit_bounds_accepted)
{
	__u32 limits[] = { VPORTX_TX_LIMIT_MIN, VPORTX_TX_LIMIT_MAX };
	__u32 lows[] = { VPORTX_TX_LIMIT_MIN - 1, 0 };
	struct vportx_attach a;
	struct vportx_info info;
	__u32 low;
	int i, fd;

	for (i = 0; i < 2; i++) {
		fd = rig_port_open("test.unix", O_RDWR);
		ASSERT_LE(0, fd);
		vportx_init_attach(&a, fd, VPORTX_HOLD_OPEN);
		a.tx_limit = limits[i];
		a.tx_low = lows[i];
		ASSERT_EQ(0, ioctl(self->ctl, VPORTX_IOC_ATTACH, &a))
			TH_LOG("tx_limit %u: %s", limits[i], strerror(errno));
		close(fd);
		self->minors[self->nminors++] = a.minor;
		ASSERT_EQ(0, vportx_info_of(self->ctl, a.minor, 0, &info));
		EXPECT_EQ(limits[i], info.tx_limit);
		low = lows[i] ? lows[i] : limits[i] / 2;
		EXPECT_EQ(low, info.tx_low);
		EXPECT_EQ(low, vportx_node_counter(&a, "tx_low"));
		EXPECT_EQ(limits[i], vportx_node_counter(&a, "tx_limit"));
		detach_ok(_metadata, self, a.minor);
	}
}

/* One port, one node: attaching it again, through the same fd, is EBUSY. */
TEST_F(ctl, attach_twice_ebusy)
{
	struct vportx_attach a, b;

	self->fd = rig_port_open("test.unix", O_RDWR);
	ASSERT_LE(0, self->fd);
	vportx_init_attach(&a, self->fd, VPORTX_HOLD_OPEN);
	ASSERT_EQ(0, ioctl(self->ctl, VPORTX_IOC_ATTACH, &a));
	self->minors[self->nminors++] = a.minor;
	vportx_init_attach(&b, self->fd, VPORTX_HOLD_OPEN);
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_ATTACH, &b));
	EXPECT_EQ(EBUSY, errno);
}

/* The output fields name the port and the node devtmpfs creates. */
TEST_F(ctl, attach_fills_port_and_minor)
{
	unsigned int dev, nr;
	struct vportx_attach a;
	char path[64];
	struct stat st;

	ASSERT_EQ(0, vportx_stock_numbers("test.unix", &dev, &nr));
	self->fd = rig_port_open("test.unix", O_RDWR);
	ASSERT_LE(0, self->fd);
	vportx_init_attach(&a, self->fd, VPORTX_HOLD_OPEN);
	a.minor = a.port_dev = a.port_nr = 0xdeadbeef;
	ASSERT_EQ(0, ioctl(self->ctl, VPORTX_IOC_ATTACH, &a));
	self->minors[self->nminors++] = a.minor;
	EXPECT_EQ(dev, a.port_dev);
	EXPECT_EQ(nr, a.port_nr);
	vportx_node_path(&a, path, sizeof(path));
	ASSERT_EQ(0, vportx_wait_path(path, 1))
		TH_LOG("%s never appeared", path);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(a.minor, minor(st.st_rdev));
}

/* /dev/virtio-ports/NAME links to the stock node and attaches just as well. */
TEST_F(ctl, attach_through_virtio_ports_link)
{
	unsigned int dev, nr;
	struct vportx_attach a;

	ASSERT_EQ(0, vportx_stock_numbers("test.spare", &dev, &nr));
	self->fd = open("/dev/virtio-ports/test.spare", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("could not open the file to offer");
	vportx_init_attach(&a, self->fd, VPORTX_HOLD_OPEN);
	ASSERT_EQ(0, ioctl(self->ctl, VPORTX_IOC_ATTACH, &a));
	self->minors[self->nminors++] = a.minor;
	EXPECT_EQ(dev, a.port_dev);
	EXPECT_EQ(nr, a.port_nr);
}

TEST_F(ctl, attach_bad_pointer_efault)
{
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_ATTACH, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(ctl, detach_bad_pointer_efault)
{
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_DETACH, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(ctl, info_bad_pointer_efault)
{
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_INFO, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

/* Unknown numbers, and a known number encoded with another size. */
TEST_F(ctl, unknown_ioctl_enotty)
{
	struct vportx_info info;
	int arg = 0;

	EXPECT_EQ(-1, ioctl(self->ctl, _IO(VPORTX_IOCTL_TYPE, 0x7f), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->ctl, _IOWR(VPORTX_IOCTL_TYPE, 0x00, int),
			    &arg));
	EXPECT_EQ(ENOTTY, errno);
	/* The next number, shaped like INFO: never taken for INFO. */
	memset(&info, 0, sizeof(info));
	EXPECT_EQ(-1, ioctl(self->ctl, _IOWR(VPORTX_IOCTL_TYPE, 0x05,
					     struct vportx_info), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(0, info.minor);
	EXPECT_EQ(0, info.backend);
}

TEST_F(ctl, detach_unknown_minor_enxio)
{
	struct vportx_detach d = { .minor = UNUSED_MINOR };

	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_DETACH, &d));
	EXPECT_EQ(ENXIO, errno);
}

/* A DETACH with flags or reserved bits set is refused and detaches nothing. */
TEST_F(ctl, detach_flags_or_reserved_einval)
{
	struct vportx_attach a;
	struct vportx_detach d;
	struct vportx_info info;
	int i;

	attach_ok(_metadata, self, "test.unix", VPORTX_HOLD_OPEN, &a);
	for (i = 0; i < 3; i++) {
		memset(&d, 0, sizeof(d));
		d.minor = a.minor;
		if (i == 0)
			d.flags = 1;
		else
			d.__reserved[i - 1] = 1;
		EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_DETACH, &d));
		EXPECT_EQ(EINVAL, errno) TH_LOG("case %d", i);
		EXPECT_EQ(0, vportx_info_of(self->ctl, a.minor, 0, &info));
	}
}

/* An open node cannot be detached; once closed it can, and vanishes. */
TEST_F(ctl, detach_while_open_ebusy)
{
	struct vportx_attach a;
	struct vportx_detach d;
	char path[64];

	attach_ok(_metadata, self, "test.unix", VPORTX_HOLD_OPEN, &a);
	self->node = vportx_open_node(&a, O_RDWR);
	ASSERT_LE(0, self->node) TH_LOG("open node: %s", strerror(-self->node));
	memset(&d, 0, sizeof(d));
	d.minor = a.minor;
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_DETACH, &d));
	EXPECT_EQ(EBUSY, errno);
	close(self->node);
	self->node = -1;
	detach_ok(_metadata, self, a.minor);
	vportx_node_path(&a, path, sizeof(path));
	EXPECT_EQ(0, vportx_wait_path(path, 0)) TH_LOG("%s still there", path);
}

/* INFO describes the node exactly as it was attached; out fields overwritten. */
TEST_F(ctl, info_round_trip)
{
	struct vportx_attach a;
	struct vportx_info info;

	attach_ok(_metadata, self, "test.unix", VPORTX_HOLD_ALWAYS, &a);
	memset(&info, 0xff, sizeof(info));
	info.minor = a.minor;
	info.flags = 0;
	memset(info.__reserved, 0, sizeof(info.__reserved));
	ASSERT_EQ(0, ioctl(self->ctl, VPORTX_IOC_INFO, &info));
	EXPECT_EQ(a.minor, info.minor);
	EXPECT_EQ(VPORTX_BACKEND_STACKED, info.backend);
	EXPECT_EQ(VPORTX_HOLD_ALWAYS, info.hold);
	EXPECT_EQ(a.port_dev, info.port_dev);
	EXPECT_EQ(a.port_nr, info.port_nr);
	EXPECT_EQ(VPORTX_TX_LIMIT_DEFAULT, info.tx_limit);
	EXPECT_EQ(VPORTX_TX_LIMIT_DEFAULT / 2, info.tx_low);
	EXPECT_EQ(0, info.open_count);
	EXPECT_EQ(0, info.tx_queued);
	EXPECT_EQ(0, info.tx_stalls);
	EXPECT_EQ(0, info.tx_dropped);
	/* The stacked backend has no receive budget. */
	EXPECT_EQ(0, info.rx_budget);
	EXPECT_EQ(0, info.__reserved[0] | info.__reserved[1] |
		     info.__reserved[2] | info.__reserved[3]);
}

TEST_F(ctl, info_reserved_einval)
{
	struct vportx_attach a;
	struct vportx_info info;

	attach_ok(_metadata, self, "test.unix", VPORTX_HOLD_OPEN, &a);
	memset(&info, 0, sizeof(info));
	info.minor = a.minor;
	info.__reserved[3] = 1;
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

/* Count how often NEXT iteration from 0 yields @m1 and @m2; -errno at end. */
static int iterate_nodes(int ctl, __u32 m1, __u32 m2, int *seen1, int *seen2)
{
	struct vportx_info info;
	__u32 minor = 0;
	int i, ret;

	*seen1 = *seen2 = 0;
	for (i = 0; i < 10000; i++) {
		ret = vportx_info_of(ctl, minor, VPORTX_INFO_F_NEXT, &info);
		if (ret)
			return ret;
		if (info.minor < minor)
			return -ERANGE;
		*seen1 += info.minor == m1;
		*seen2 += info.minor == m2;
		minor = info.minor + 1;
	}
	return -ELOOP;
}

TEST_F(ctl, info_next_lists_every_node_once)
{
	struct vportx_attach a, b;
	int seen_a, seen_b;

	attach_ok(_metadata, self, "test.unix", VPORTX_HOLD_OPEN, &a);
	attach_ok(_metadata, self, "test.spare", VPORTX_HOLD_ALWAYS, &b);
	EXPECT_NE(a.minor, b.minor);
	EXPECT_EQ(-ENXIO, iterate_nodes(self->ctl, a.minor, b.minor,
					&seen_a, &seen_b));
	EXPECT_EQ(1, seen_a);
	EXPECT_EQ(1, seen_b);
}

TEST_F(ctl, info_unknown_minor_enxio)
{
	struct vportx_info info = { .minor = UNUSED_MINOR };

	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_INFO, &info));
	EXPECT_EQ(ENXIO, errno);
}

TEST_F(ctl, info_bad_flags_einval)
{
	struct vportx_attach a;
	struct vportx_info info;

	attach_ok(_metadata, self, "test.unix", VPORTX_HOLD_OPEN, &a);
	memset(&info, 0, sizeof(info));
	info.minor = a.minor;
	info.flags = 2;
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

/* After DETACH the stock node is free again, even after hold=always. */
TEST_F(ctl, detach_releases_stock_port)
{
	struct vportx_attach a;

	attach_ok(_metadata, self, "test.unix", VPORTX_HOLD_ALWAYS, &a);
	self->node = vportx_open_node(&a, O_RDWR);
	ASSERT_LE(0, self->node) TH_LOG("open node: %s", strerror(-self->node));
	close(self->node);
	self->node = -1;
	detach_ok(_metadata, self, a.minor);
	self->fd = rig_port_open("test.unix", O_RDWR);
	EXPECT_LE(0, self->fd) TH_LOG("stock node: %s", strerror(-self->fd));
}

TEST_HARNESS_MAIN
