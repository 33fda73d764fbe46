// SPDX-License-Identifier: GPL-2.0
/*
 * The direct backend's device half: VPORTX_IOC_CLAIM hands a virtio-console
 * device to vportx's own driver and VPORTX_IOC_RELEASE gives it back to
 * virtio_console, and while vportx drives it, the multiport control
 * protocol tells it the device's ports: ids, names, which host is
 * connected, ports hot-plugged and unplugged, as its debugfs file
 * (vportx/virtioN: "ID NAME HOST_CONNECTED CONSOLE" per port) shows them.
 * The rig's third virtio-serial device carries direct.a and direct.b for
 * this (selftests/rig/ports.conf). Their nodes: dnode_test.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/vportx.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "vportx_util.h"

#define CTL_PATH "/dev/" VPORTX_CONTROL_NAME
#define DEBUGFS "/sys/kernel/debug"
#define WAIT_MS 10000
/* The rig's devices number far below this. */
#define NO_DEVICE 99999

static int claim_ioctl(int ctl, unsigned long cmd, __u32 index)
{
	return vportx_claim_ioctl(ctl, cmd, index, 0);
}

/* The driver virtio@index is bound to ("" for none), into @buf. */
static void driver_of(unsigned int index, char *buf, size_t len)
{
	char path[96], target[256];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/virtio%u/driver",
		 index);
	n = readlink(path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	if (strlen(base) >= len)
		base = "(too long)";
	memcpy(buf, base, strlen(base) + 1);
}

/* Wait until virtio@index is bound to @want. */
static int wait_driver(unsigned int index, const char *want)
{
	char drv[64];
	int ms;

	for (ms = 0; ms < WAIT_MS; ms += 10) {
		driver_of(index, drv, sizeof(drv));
		if (!strcmp(drv, want))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* The debugfs file of virtio@index, whole, into @buf: 0 or -errno. */
static int ports_file(unsigned int index, char *buf, size_t len)
{
	char path[96];
	size_t got = 0;
	ssize_t n = 1;
	int fd;

	snprintf(path, sizeof(path), DEBUGFS "/vportx/virtio%u", index);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n > 0 && got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		got += n > 0 ? n : 0;
	}
	buf[got] = '\0';
	close(fd);
	return n < 0 ? -EIO : 0;
}

/* Is @line one of the lines of @buf? */
static int has_line(const char *buf, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = buf; (p = strstr(p, line)); p++)
		if ((p == buf || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/* Wait until the device's port list has the line @line, or lacks it. */
static int wait_port_line(unsigned int index, const char *line, int present)
{
	char buf[4096];
	int ms;

	for (ms = 0; ms < WAIT_MS; ms += 10) {
		if (ports_file(index, buf, sizeof(buf)) >= 0 &&
		    has_line(buf, line) == present)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* The N of the first virtio device of type @type (9: 9p), or -1. */
static int device_of_type(unsigned int type)
{
	char path[300], buf[32];
	struct dirent *d;
	int found = -1;
	DIR *dir = opendir("/sys/bus/virtio/devices");

	while (dir && (d = readdir(dir)) && found < 0) {
		if (strncmp(d->d_name, "virtio", 6))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/device",
			 d->d_name);
		if (!rig_read_file(path, buf, sizeof(buf)) &&
		    strtoul(buf, NULL, 16) == type)
			found = atoi(d->d_name + 6);
	}
	if (dir)
		closedir(dir);
	return found;
}

static int nobody_claim(int ctl, int index)
{
	if (!claim_ioctl(ctl, VPORTX_IOC_CLAIM, index))
		return 255;
	return errno == EPERM ? 0 : errno;
}

FIXTURE(direct) {
	int ctl;
	unsigned int index;	/* N of the device of direct.a and direct.b */
};

FIXTURE_SETUP(direct)
{
	unsigned int nr;

	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl)
		TH_LOG("%s: %s (is vportx.ko loaded?)", CTL_PATH,
		       strerror(errno));
	ASSERT_EQ(0, rig_wait_port("direct.a", 1));
	ASSERT_EQ(0, vportx_stock_numbers("direct.a", &self->index, &nr));
	/* Already mounted (EBUSY) is as good. */
	if (mount("debugfs", DEBUGFS, "debugfs", 0, NULL))
		ASSERT_EQ(EBUSY, errno);
}

/* Whatever a test left claimed goes back, its ports with it. */
FIXTURE_TEARDOWN(direct)
{
	if (self->ctl >= 0)
		claim_ioctl(self->ctl, VPORTX_IOC_RELEASE, self->index);
	EXPECT_EQ(0, rig_wait_port("direct.a", 1));
	EXPECT_EQ(0, rig_wait_port("direct.b", 1));
	if (self->ctl >= 0)
		close(self->ctl);
}

/*
 * Claimed: bound to vportx, virtio_console's nodes of the device gone,
 * both ports known by name with their host connected. Released: bound to
 * virtio_console again, with the same ports, names and all.
 */
TEST_F(direct, claim_then_release)
{
	char path[96], drv[64], name[64];

	ASSERT_EQ(0, claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, self->index));
	driver_of(self->index, drv, sizeof(drv));
	EXPECT_STREQ("vportx", drv);
	EXPECT_EQ(0, rig_wait_port("direct.a", 0));
	EXPECT_EQ(0, rig_wait_port("direct.b", 0));
	EXPECT_EQ(0, wait_port_line(self->index, "1 direct.a 1 0", 1));
	EXPECT_EQ(0, wait_port_line(self->index, "2 direct.b 1 0", 1));

	ASSERT_EQ(0, claim_ioctl(self->ctl, VPORTX_IOC_RELEASE, self->index));
	EXPECT_EQ(0, wait_driver(self->index, "virtio_console"));
	EXPECT_EQ(0, rig_wait_port("direct.a", 1));
	snprintf(path, sizeof(path), "/sys/class/virtio-ports/vport%up1/name",
		 self->index);
	EXPECT_EQ(0, rig_read_file(path, name, sizeof(name)));
	EXPECT_STREQ("direct.a", name);
	EXPECT_EQ(-ENOENT, ports_file(self->index, name, sizeof(name)));
}

/* The host going and coming back is PORT_OPEN 0, then 1. */
TEST_F(direct, host_connected_follows_the_host)
{
	ASSERT_EQ(0, claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, self->index));
	ASSERT_EQ(0, wait_port_line(self->index, "1 direct.a 1 0", 1));
	ASSERT_EQ(0, rig_ctl_ok("disconnect direct.a"));
	EXPECT_EQ(0, wait_port_line(self->index, "1 direct.a 0 0", 1));
	ASSERT_EQ(0, rig_ctl_ok("connect direct.a"));
	EXPECT_EQ(0, wait_port_line(self->index, "1 direct.a 1 0", 1));
}

/* A port hot-plugged on a claimed device is added, named; unplugged, gone. */
TEST_F(direct, hotplug_and_unplug)
{
	ASSERT_EQ(0, claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, self->index));
	ASSERT_EQ(0, wait_port_line(self->index, "2 direct.b 1 0", 1));
	ASSERT_EQ(0, rig_ctl_ok("hotplug direct.hp direct.hp 2 5"));
	EXPECT_EQ(0, wait_port_line(self->index, "5 direct.hp 1 0", 1));
	ASSERT_EQ(0, rig_ctl_ok("unplug direct.hp"));
	EXPECT_EQ(0, wait_port_line(self->index, "5 direct.hp 1 0", 0));
	EXPECT_EQ(0, wait_port_line(self->index, "2 direct.b 1 0", 1));
}

/* Unloading vportx gives every claimed device back to virtio_console. */
TEST_F(direct, rmmod_releases)
{
	const char *repo = getenv("VPORTX_REPO");
	char ko[512];
	int fd;

	ASSERT_NE(NULL, repo);
	ASSERT_EQ(0, claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, self->index));
	ASSERT_EQ(0, rig_wait_port("direct.a", 0));
	close(self->ctl);
	self->ctl = -1;
	ASSERT_EQ(0, syscall(SYS_delete_module, "vportx", O_NONBLOCK))
		TH_LOG("rmmod: %s", strerror(errno));
	EXPECT_EQ(0, wait_driver(self->index, "virtio_console"));
	EXPECT_EQ(0, rig_wait_port("direct.a", 1));
	EXPECT_EQ(0, rig_wait_port("direct.b", 1));

	/* Back as the rig loaded it, for the tests after this one. */
	snprintf(ko, sizeof(ko), "%s/kmod/vportx.ko", repo);
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, syscall(SYS_finit_module, fd, "dyndbg=+p", 0))
		TH_LOG("insmod %s: %s", ko, strerror(errno));
	close(fd);
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl);
}

/*
 * Claimed and released back to back, the device is stopped while its
 * control messages are still coming: an interrupt on its way then must
 * not queue work on a freed device (it did, and a kworker oopsed, until
 * the device was broken before its reset).
 */
TEST_F(direct, claim_release_back_to_back)
{
	int i;

	for (i = 0; i < 200; i++) {
		ASSERT_EQ(0, claim_ioctl(self->ctl, VPORTX_IOC_CLAIM,
					 self->index));
		ASSERT_EQ(0, claim_ioctl(self->ctl, VPORTX_IOC_RELEASE,
					 self->index));
	}
	ASSERT_EQ(0, claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, self->index));
	EXPECT_EQ(0, wait_port_line(self->index, "1 direct.a 1 0", 1));
	EXPECT_EQ(0, wait_port_line(self->index, "2 direct.b 1 0", 1));
}

/* Every documented errno, and nothing claimed or lost on the way. */
/*
 * Released back to back, the device goes to virtio_console each time, and
 * the next claim may unbind it while it still adds the ports of its probe:
 * virtcons_remove() breaks the device before it waits for its control
 * work, which then prints "Error adding buffer to queue". What
 * virtio_console is left with at the end must work as after boot: the old
 * ports named and their hosts seen, a port plugged afterwards named too.
 */
TEST_F(direct, stock_after_back_to_back)
{
	int i, fd;

	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, claim_ioctl(self->ctl, VPORTX_IOC_CLAIM,
					 self->index));
		ASSERT_EQ(0, claim_ioctl(self->ctl, VPORTX_IOC_RELEASE,
					 self->index));
	}
	ASSERT_EQ(0, wait_driver(self->index, "virtio_console"));
	ASSERT_EQ(0, rig_wait_port("direct.a", 1));
	fd = rig_port_open_host("direct.a", O_RDWR, 10000);
	EXPECT_LE(0, fd) TH_LOG("direct.a: %s", strerror(-fd));
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, rig_wait_port("direct.b", 1));
	ASSERT_EQ(0, rig_ctl_ok("hotplug direct.hp direct.hp 2 5"));
	EXPECT_EQ(0, rig_wait_port("direct.hp", 1));
	ASSERT_EQ(0, rig_ctl_ok("unplug direct.hp"));
	EXPECT_EQ(0, rig_wait_port("direct.hp", 0));
}

TEST_F(direct, claim_errors)
{
	struct vportx_claim c = { .index = self->index };
	struct vportx_release r = { .index = self->index };
	struct vportx_attach a;
	char drv[64];
	int ninep = device_of_type(9);

	EXPECT_EQ(-ENODEV, claim_ioctl(self->ctl, VPORTX_IOC_CLAIM,
				       NO_DEVICE));
	ASSERT_LE(0, ninep);
	EXPECT_EQ(-EINVAL, claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, ninep));
	c.flags = 1;
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_CLAIM, &c));
	EXPECT_EQ(EINVAL, errno);
	c.flags = 0;
	c.__reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_CLAIM, &c));
	EXPECT_EQ(EINVAL, errno);
	c.__reserved[0] = 0;
	/* The nodes' parameters: checked as ATTACH checks them. */
	c.hold = 2;
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_CLAIM, &c));
	EXPECT_EQ(EINVAL, errno);
	c.hold = VPORTX_HOLD_ALWAYS;
	c.rx_budget = VPORTX_RX_BUDGET_MIN - 1;
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_CLAIM, &c));
	EXPECT_EQ(EINVAL, errno);
	c.rx_budget = VPORTX_RX_BUDGET_MAX + 1;
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_CLAIM, &c));
	EXPECT_EQ(EINVAL, errno);
	c.rx_budget = 0;
	c.tx_limit = VPORTX_TX_LIMIT_MIN;
	c.tx_low = VPORTX_TX_LIMIT_MIN;
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_CLAIM, &c));
	EXPECT_EQ(EINVAL, errno);
	c.tx_low = 0;
	/* A release's unknown flags and reserved fields: checked first. */
	r.flags = 1;
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_RELEASE, &r));
	EXPECT_EQ(EINVAL, errno);
	r.flags = 0;
	r.__reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_RELEASE, &r));
	EXPECT_EQ(EINVAL, errno);
	/* The old RELEASE, with a struct vportx_claim: another number. */
	EXPECT_EQ(-1, ioctl(self->ctl, _IOW(VPORTX_IOCTL_TYPE, 0x04,
					    struct vportx_claim), &c));
	EXPECT_EQ(ENOTTY, errno);
	driver_of(self->index, drv, sizeof(drv));
	EXPECT_STREQ("virtio_console", drv);
	EXPECT_EQ(-1, ioctl(self->ctl, VPORTX_IOC_CLAIM, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, vportx_as_nobody(nobody_claim, self->ctl, self->index));
	EXPECT_EQ(-ENXIO, claim_ioctl(self->ctl, VPORTX_IOC_RELEASE,
				      self->index));

	/* A port of it attached (stacked) keeps the device where it is. */
	ASSERT_EQ(0, vportx_attach_port(self->ctl, "direct.a",
					VPORTX_HOLD_OPEN, &a));
	EXPECT_EQ(-EBUSY, claim_ioctl(self->ctl, VPORTX_IOC_CLAIM,
				      self->index));
	driver_of(self->index, drv, sizeof(drv));
	EXPECT_STREQ("virtio_console", drv);
	EXPECT_EQ(0, vportx_detach_minor(self->ctl, a.minor));

	ASSERT_EQ(0, claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, self->index));
	EXPECT_EQ(-EBUSY, claim_ioctl(self->ctl, VPORTX_IOC_CLAIM,
				      self->index));
	EXPECT_EQ(0, claim_ioctl(self->ctl, VPORTX_IOC_RELEASE, self->index));
	EXPECT_EQ(-ENXIO, claim_ioctl(self->ctl, VPORTX_IOC_RELEASE,
				      self->index));
}

TEST_HARNESS_MAIN
