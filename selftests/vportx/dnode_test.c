// SPDX-License-Identifier: GPL-2.0
/*
 * What only the direct backend's data node does, with both hold policies
 * (node_test runs the common tests, 64 MiB each way among them, on both
 * backends): small writes, splice from the node (zero-copy receive) in
 * bulk, vmsplice and sendfile into it in bulk, data kept across a close
 * and while the reader stops (the host is held back, not dropped), a
 * receive budget beyond the queue, end of file, the node's sysfs and
 * INFO, and what happens to an open node when its device is released or
 * its port unplugged, and the device suspended mid-transfer, or refusing
 * to while its host stalls. Each test claims the rig's third device
 * (direct.a, direct.b) and releases it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vportx.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "pattern.h"
#include "xfer.h"
#include "vportx_util.h"

#define CTL_PATH "/dev/" VPORTX_CONTROL_NAME
#define HOST_WAIT_MS 10000
#define MIB (1 << 20)
/* debugfs: writing N suspends the device N ms (freeze, then restore). */
#define SUSPEND_FMT "/sys/kernel/debug/vportx/virtio%u-suspend"

FIXTURE(dnode) {
	int ctl;
	unsigned int index;	/* N of the device of direct.a and direct.b */
	struct vportx_attach a;	/* direct.a's node */
	int fd;			/* open read-write, or -1 */
};

FIXTURE_VARIANT(dnode) {
	__u32 hold;
	const char *hold_name;
	uint64_t seed;
};

FIXTURE_VARIANT_ADD(dnode, hold_open) { .hold = VPORTX_HOLD_OPEN,
					.hold_name = "open", .seed = 6000 };
FIXTURE_VARIANT_ADD(dnode, hold_always) { .hold = VPORTX_HOLD_ALWAYS,
					  .hold_name = "always",
					  .seed = 6100 };

FIXTURE_SETUP(dnode)
{
	unsigned int nr;
	int ret;

	self->fd = -1;
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl);
	ASSERT_EQ(0, rig_wait_port("direct.a", 1));
	ASSERT_EQ(0, vportx_stock_numbers("direct.a", &self->index, &nr));
	ASSERT_EQ(0, rig_ctl_ok("reset direct.a"));
	ASSERT_EQ(0, vportx_claim_ioctl(self->ctl, VPORTX_IOC_CLAIM,
					self->index, variant->hold));
	ret = vportx_find_direct(self->ctl, self->index, 1, &self->a);
	ASSERT_EQ(0, ret) TH_LOG("node of direct.a: %s", strerror(-ret));
	self->fd = vportx_open_node_host(&self->a, HOST_WAIT_MS);
	ASSERT_LE(0, self->fd) TH_LOG("data node: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(dnode)
{
	if (self->fd >= 0)
		close(self->fd);
	vportx_claim_ioctl(self->ctl, VPORTX_IOC_RELEASE, self->index, 0);
	EXPECT_EQ(0, rig_wait_port("direct.a", 1));
	close(self->ctl);
	rig_ctl_ok("reset direct.a");
	rig_ctl_ok("connect direct.a");
}

/* Suspend virtio@index for @ms ms, as a system suspend would: 0 or -errno. */
static int suspend_device(unsigned int index, unsigned int ms)
{
	char path[64], val[16];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), SUSPEND_FMT, index);
	len = snprintf(val, sizeof(val), "%u", ms);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/* direct.b's node, reset at the host, open read-write with its host. */
static int open_direct_b(FIXTURE_DATA(dnode) *self, struct vportx_attach *b)
{
	int ret = rig_ctl_ok("reset direct.b");

	if (!ret)
		ret = vportx_find_direct(self->ctl, self->index, 2, b);
	return ret ? ret : vportx_open_node_host(b, HOST_WAIT_MS);
}

/* Small writes, each its own message, arrive whole and in order. */
TEST_F_TIMEOUT(dnode, small_writes, 300)
{
	rig_to_host(_metadata, self->fd, "direct.a", variant->seed + 3,
		    4 * MIB, 64);
}

/*
 * splice from the node into a pipe, read back from the pipe: 16 MiB,
 * every byte checked; rx_bytes counts them.
 */
TEST_F_TIMEOUT(dnode, splice_read, 300)
{
	size_t n = 16 * MIB, got = 0;
	uint64_t seed = variant->seed + 4, hash = FNV64_INIT, want;
	char *buf = malloc(65536), *ref;
	long long before = vportx_node_counter(&self->a, "rx_bytes");
	ssize_t in, out;
	int p[2];

	ASSERT_NE(NULL, buf);
	ref = malloc(n);
	ASSERT_NE(NULL, ref);
	pattern_fill(ref, n, seed, 0);
	want = fnv64_update(FNV64_INIT, ref, n);
	free(ref);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, rig_ctl_ok("source direct.a %zu %" PRIu64, n, seed));
	while (got < n) {
		in = splice(self->fd, NULL, p[1], NULL, n - got, 0);
		ASSERT_LT(0, in) TH_LOG("splice: %s", strerror(errno));
		while (in > 0) {
			out = read(p[0], buf, in < 65536 ? in : 65536);
			ASSERT_LT(0, out);
			hash = fnv64_update(hash, buf, out);
			in -= out;
			got += out;
		}
	}
	EXPECT_EQ(want, hash);
	EXPECT_EQ(before + (long long)n,
		  vportx_node_counter(&self->a, "rx_bytes"));
	close(p[0]);
	close(p[1]);
	free(buf);
}

/* vmsplice @buf in pieces of @piece into a pipe, and splice it to @fd. */
static int vmsplice_pieces(int fd, char *buf, size_t n, size_t piece)
{
	struct iovec iov[16];
	size_t done = 0, i, cnt;
	ssize_t in, out;
	int p[2], ret = 0;

	if (pipe(p))
		return -errno;
	while (done < n && !ret) {
		for (cnt = 0, i = done; cnt < 16 && i < n; cnt++, i += piece) {
			iov[cnt].iov_base = buf + i;
			iov[cnt].iov_len = n - i < piece ? n - i : piece;
		}
		in = vmsplice(p[1], iov, cnt, 0);
		if (in <= 0)
			ret = in ? -errno : -EPIPE;
		else
			done += in;
		while (!ret && in > 0) {
			out = splice(p[0], NULL, fd, NULL, in, 0);
			if (out <= 0)
				ret = out ? -errno : -EPIPE;
			else
				in -= out;
		}
	}
	close(p[0]);
	close(p[1]);
	return ret;
}

/* vmsplice into a pipe and splice it to the node: 8 MiB, checked. */
TEST_F_TIMEOUT(dnode, vmsplice_write, 300)
{
	size_t n = 8 * MIB;
	uint64_t seed = variant->seed + 5;
	char *buf = malloc(n);
	int ret;

	ASSERT_NE(NULL, buf);
	pattern_fill(buf, n, seed, 0);
	ASSERT_EQ(0, rig_ctl_ok("sink direct.a %zu %" PRIu64, n, seed));
	ret = vmsplice_pieces(self->fd, buf, n, n);
	ASSERT_EQ(0, ret) TH_LOG("splice: %s", strerror(-ret));
	/* The device holds references to the pages until it used them. */
	EXPECT_EQ(0, fsync(self->fd));
	rig_sink_check(_metadata, "direct.a", n,
		       fnv64_update(FNV64_INIT, buf, n));
	free(buf);
}

/*
 * Pieces of odd sizes, many a page: the pipe's buffers start and end
 * mid-page, and the ones of one page are contiguous, so an element's
 * buffers merge (dtx.c). 4 MiB, checked.
 */
TEST_F_TIMEOUT(dnode, vmsplice_odd_pieces, 300)
{
	size_t n = 4 * MIB + 333;
	uint64_t seed = variant->seed + 7;
	char *buf = malloc(n);
	int ret;

	ASSERT_NE(NULL, buf);
	pattern_fill(buf, n, seed, 0);
	ASSERT_EQ(0, rig_ctl_ok("sink direct.a %zu %" PRIu64, n, seed));
	ret = vmsplice_pieces(self->fd, buf, n, 1000);
	ASSERT_EQ(0, ret) TH_LOG("splice: %s", strerror(-ret));
	EXPECT_EQ(0, fsync(self->fd));
	rig_sink_check(_metadata, "direct.a", n,
		       fnv64_update(FNV64_INIT, buf, n));
	free(buf);
}

/*
 * Memory in transparent huge pages: its 4 KiB pages are physically
 * contiguous, and an element is a single 64 KiB buffer of them. 8 MiB
 * from a 2 MiB-aligned buffer, checked.
 */
TEST_F_TIMEOUT(dnode, vmsplice_huge_pages, 300)
{
	size_t n = 8 * MIB;
	uint64_t seed = variant->seed + 8;
	char *buf = NULL;
	int ret;

	ASSERT_EQ(0, posix_memalign((void **)&buf, 2 * MIB, n));
	/* EINVAL without THP in the kernel: the pages are then just pages. */
	madvise(buf, n, MADV_HUGEPAGE);
	pattern_fill(buf, n, seed, 0);
	ASSERT_EQ(0, rig_ctl_ok("sink direct.a %zu %" PRIu64, n, seed));
	ret = vmsplice_pieces(self->fd, buf, n, MIB);
	ASSERT_EQ(0, ret) TH_LOG("splice: %s", strerror(-ret));
	EXPECT_EQ(0, fsync(self->fd));
	rig_sink_check(_metadata, "direct.a", n,
		       fnv64_update(FNV64_INIT, buf, n));
	free(buf);
}

/* sendfile from a file in the page cache: 8 MiB, checked. */
TEST_F_TIMEOUT(dnode, sendfile_write, 300)
{
	char path[] = "/tmp/vportx-dnode-XXXXXX";
	size_t n = 8 * MIB;
	uint64_t seed = variant->seed + 6;
	char *buf = malloc(n);
	int file = mkstemp(path);
	off_t off = 0;
	ssize_t ret;

	ASSERT_NE(NULL, buf);
	ASSERT_LE(0, file);
	unlink(path);
	pattern_fill(buf, n, seed, 0);
	ASSERT_EQ((ssize_t)n, write(file, buf, n));
	ASSERT_EQ(0, rig_ctl_ok("sink direct.a %zu %" PRIu64, n, seed));
	while ((size_t)off < n) {
		ret = sendfile(self->fd, file, &off, n - off);
		ASSERT_LT(0, ret) TH_LOG("sendfile: %s", strerror(errno));
	}
	rig_sink_check(_metadata, "direct.a", n,
		       fnv64_update(FNV64_INIT, buf, n));
	close(file);
	free(buf);
}

/*
 * A reader that stops holds the host back: 8 MiB, far above the receive
 * budget, sent while nobody reads, all arrive once the reader comes back.
 */
TEST_F_TIMEOUT(dnode, stopped_reader_loses_nothing, 300)
{
	size_t n = 8 * MIB;
	struct rig_recv res;
	char reply[RIG_REPLY_MAX];

	ASSERT_EQ(0, rig_ctl_ok("source direct.a %zu %" PRIu64, n,
				variant->seed + 7));
	sleep(2);
	/* The peer could not have sent it all: QEMU stopped reading. */
	ASSERT_EQ(1, rig_ctl(reply, sizeof(reply), "wait direct.a 100"));
	ASSERT_EQ(0, rig_recv(self->fd, variant->seed + 7, n, MIB, &res));
	EXPECT_EQ(-1, res.bad);
	ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "wait direct.a %d",
			     RIG_JOB_MS));
}

/* What arrived and was not read stays for the next opener. */
TEST_F(dnode, data_kept_across_close)
{
	size_t n = 100000;
	struct rig_recv res;

	ASSERT_EQ(0, rig_ctl_ok("source direct.a %zu %" PRIu64, n,
				variant->seed + 8));
	ASSERT_EQ(0, rig_wait_unread_zero("direct.a"));
	close(self->fd);
	self->fd = vportx_open_node_host(&self->a, HOST_WAIT_MS);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, rig_recv(self->fd, variant->seed + 8, n, 65536, &res));
	EXPECT_EQ(-1, res.bad);
	/* One read() returns more than one 4 KiB buffer. */
	EXPECT_LT(4096, res.maxread);
}

/* What the host sent before it went is read before end of file. */
TEST_F(dnode, eof_after_buffered_data)
{
	struct rig_recv res;
	char c;

	ASSERT_EQ(0, rig_ctl_ok("source direct.a 65536 %" PRIu64,
				variant->seed + 9));
	ASSERT_EQ(0, rig_wait_unread_zero("direct.a"));
	ASSERT_EQ(0, rig_ctl_ok("disconnect direct.a"));
	EXPECT_EQ(0, vportx_wait_attr(&self->a, "host_connected", "0",
				      HOST_WAIT_MS));
	EXPECT_EQ(POLLIN | POLLHUP, rig_poll(self->fd, POLLIN, 1000) &
		  (POLLIN | POLLHUP));
	ASSERT_EQ(0, rig_recv(self->fd, variant->seed + 9, 65536, 65536,
			      &res));
	EXPECT_EQ(-1, res.bad);
	EXPECT_EQ(0, read(self->fd, &c, 1));
	ASSERT_EQ(0, rig_ctl_ok("connect direct.a"));
	EXPECT_EQ(0, vportx_wait_attr(&self->a, "host_connected", "1",
				      HOST_WAIT_MS));
}

/* O_NONBLOCK with nothing to read: EAGAIN; a second open: EBUSY. */
TEST_F(dnode, nonblock_and_exclusive)
{
	char path[64], c;
	int fd;

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, &c, 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-ETIMEDOUT, rig_poll(self->fd, POLLIN, 100));
	EXPECT_EQ(POLLOUT, rig_poll(self->fd, POLLOUT, 1000));
	vportx_node_path(&self->a, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EBUSY, errno);
}

/* sysfs and INFO say what the node is; DETACH is not how it goes. */
TEST_F(dnode, sysfs_info_and_detach)
{
	struct vportx_info info;
	char buf[64], want[32];

	EXPECT_EQ(0, vportx_node_sysfs(&self->a, "backend", buf, sizeof(buf)));
	EXPECT_STREQ("direct", buf);
	EXPECT_EQ(0, vportx_node_sysfs(&self->a, "name", buf, sizeof(buf)));
	EXPECT_STREQ("direct.a", buf);
	EXPECT_EQ(0, vportx_node_sysfs(&self->a, "hold", buf, sizeof(buf)));
	EXPECT_STREQ(variant->hold_name, buf);
	snprintf(want, sizeof(want), "%u", VPORTX_RX_BUDGET_DEFAULT);
	EXPECT_EQ(0, vportx_node_sysfs(&self->a, "rx_budget", buf,
				       sizeof(buf)));
	EXPECT_STREQ(want, buf);
	EXPECT_EQ(0, vportx_node_sysfs(&self->a, "host_connected", buf,
				       sizeof(buf)));
	EXPECT_STREQ("1", buf);
	ASSERT_EQ(0, vportx_info_of(self->ctl, self->a.minor, 0, &info));
	EXPECT_EQ(VPORTX_BACKEND_DIRECT, info.backend);
	EXPECT_EQ(variant->hold, info.hold);
	EXPECT_EQ(VPORTX_RX_BUDGET_DEFAULT, info.rx_budget);
	EXPECT_EQ(self->index, info.port_dev);
	EXPECT_EQ(1, info.port_nr);
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(-EOPNOTSUPP, vportx_detach_minor(self->ctl, self->a.minor));
	EXPECT_EQ(0, vportx_info_of(self->ctl, self->a.minor, 0, &info));
}

/*
 * Released with its node open: what had arrived is still read, then the
 * node says ENODEV and goes at its close; the port is virtio_console's
 * again at once.
 */
TEST_F(dnode, release_with_node_open)
{
	char path[64], c = 0;
	struct rig_recv res;

	ASSERT_EQ(0, rig_ctl_ok("source direct.a 10000 %" PRIu64,
				variant->seed + 12));
	ASSERT_EQ(0, rig_wait_unread_zero("direct.a"));
	ASSERT_EQ(0, vportx_claim_ioctl(self->ctl, VPORTX_IOC_RELEASE,
					self->index, 0));
	EXPECT_EQ(0, rig_wait_port("direct.a", 1));
	ASSERT_EQ(0, rig_recv(self->fd, variant->seed + 12, 10000, 65536,
			      &res));
	EXPECT_EQ(-1, res.bad);
	EXPECT_EQ(-1, read(self->fd, &c, 1));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, write(self->fd, &c, 1));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(POLLHUP | POLLERR, rig_poll(self->fd, POLLIN, 1000) &
		  (POLLHUP | POLLERR));
	close(self->fd);
	self->fd = -1;
	vportx_node_path(&self->a, path, sizeof(path));
	EXPECT_EQ(0, vportx_wait_path(path, 0));
}

/* A port unplugged under an open node: ENODEV, and the node goes. */
TEST_F(dnode, unplug_open_node)
{
	struct vportx_attach hp;
	char path[64], c;
	int fd;

	ASSERT_EQ(0, rig_ctl_ok("hotplug direct.hp direct.hp 2 5"));
	ASSERT_EQ(0, vportx_find_direct(self->ctl, self->index, 5, &hp));
	fd = vportx_open_node_host(&hp, HOST_WAIT_MS);
	ASSERT_LE(0, fd);
	rig_to_host(_metadata, fd, "direct.hp", variant->seed + 10, MIB,
		    65536);
	ASSERT_EQ(0, rig_ctl_ok("unplug direct.hp"));
	EXPECT_EQ(0, vportx_wait_attr(&hp, "unplugged", "1", HOST_WAIT_MS));
	EXPECT_EQ(-1, read(fd, &c, 1));
	EXPECT_EQ(ENODEV, errno);
	close(fd);
	vportx_node_path(&hp, path, sizeof(path));
	EXPECT_EQ(0, vportx_wait_path(path, 0));
	/* The other port never noticed. */
	rig_to_host(_metadata, self->fd, "direct.a", variant->seed + 11, MIB,
		    4096);
}

/* Wait up to HOST_WAIT_MS for rx_queued of @a above @floor: its last value. */
static long long wait_queued_above(const struct vportx_attach *a,
				   long long floor)
{
	long long q = -1;
	int ms;

	for (ms = 0; ms < HOST_WAIT_MS; ms += 50) {
		q = vportx_node_counter(a, "rx_queued");
		if (q > floor)
			break;
		usleep(50000);
	}
	return q;
}

/*
 * rx_budget in sysfs is the port's own and changes at once: with 16 KiB
 * the node takes at most 16 KiB of what the host sends while nobody
 * reads (rx_queued says so); raised again, it takes more at once. Every
 * byte still arrives.
 */
TEST_F_TIMEOUT(dnode, rx_budget_per_port, 120)
{
	size_t n = MIB;
	uint64_t seed = variant->seed + 15;
	char reply[RIG_REPLY_MAX], buf[32], want[32];
	struct vportx_attach b;
	struct rig_recv res;
	long long queued;

	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "rx_budget", "16384"));
	/* direct.b keeps its own. */
	ASSERT_EQ(0, vportx_find_direct(self->ctl, self->index, 2, &b));
	snprintf(want, sizeof(want), "%u", VPORTX_RX_BUDGET_DEFAULT);
	EXPECT_EQ(0, vportx_node_sysfs(&b, "rx_budget", buf, sizeof(buf)));
	EXPECT_STREQ(want, buf);
	/* The buffers posted with the old budget go once they are read. */
	ASSERT_EQ(0, rig_ctl_ok("source direct.a %zu %" PRIu64, 2 * n,
				seed));
	ASSERT_EQ(0, rig_recv(self->fd, seed, 2 * n, 65536, &res));
	EXPECT_EQ(-1, res.bad);
	ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "wait direct.a %d",
			     RIG_JOB_MS));
	EXPECT_EQ(0, vportx_node_sysfs(&self->a, "rx_queued", buf,
				       sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, rig_ctl_ok("source direct.a %zu %" PRIu64, n, seed + 1));
	EXPECT_LT(0, wait_queued_above(&self->a, 0));
	sleep(1);
	/* QEMU may fill a buffer only in part: at most the budget, then. */
	EXPECT_GE(16384, vportx_node_counter(&self->a, "rx_queued"));
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "rx_budget", "262144"));
	queued = wait_queued_above(&self->a, 16384);
	EXPECT_LT(16384, queued);
	EXPECT_GE(262144, queued) TH_LOG("rx_queued %lld", queued);
	ASSERT_EQ(0, rig_recv(self->fd, seed + 1, n, 65536, &res));
	EXPECT_EQ(-1, res.bad);
}

/*
 * A budget beyond the receive queue (128 buffers, 512 KiB, with QEMU) is
 * taken whole while nobody reads, with hold=always even while the node is
 * closed: of 4 MiB sent, more than the queue holds and at most the 2 MiB
 * budget wait in the guest, and the host holds the rest back. Every byte
 * arrives once the reader comes.
 */
TEST_F_TIMEOUT(dnode, rx_budget_beyond_queue, 120)
{
	size_t n = 4 * MIB;
	uint64_t seed = variant->seed + 16;
	char reply[RIG_REPLY_MAX], expect[32];
	struct rig_recv res;
	long long queued;

	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "rx_budget", "2097152"));
	if (variant->hold == VPORTX_HOLD_ALWAYS) {
		close(self->fd);
		self->fd = -1;
	}
	ASSERT_EQ(0, rig_ctl_ok("source direct.a %zu %" PRIu64, n, seed));
	queued = wait_queued_above(&self->a, MIB);
	EXPECT_LT(MIB, queued);
	sleep(1);
	queued = vportx_node_counter(&self->a, "rx_queued");
	EXPECT_GE(2 * MIB, queued);
	ASSERT_EQ(1, rig_ctl(reply, sizeof(reply), "wait direct.a 100"));
	if (self->fd < 0) {
		self->fd = vportx_open_node_host(&self->a, HOST_WAIT_MS);
		ASSERT_LE(0, self->fd);
	}
	ASSERT_EQ(0, rig_recv(self->fd, seed, n, MIB, &res));
	EXPECT_EQ(-1, res.bad);
	ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "wait direct.a %d",
			     RIG_JOB_MS));
	snprintf(expect, sizeof(expect), "sent %zu", n);
	EXPECT_STREQ(expect, reply);
}

/*
 * The device suspended (frozen, reset, restored) 16 times while the host
 * sends 16 MiB to direct.a, read a MiB between suspends, and a child
 * writes 16 MiB to direct.b in 4 KiB writes: every byte arrives once, in
 * order, both ways.
 */
TEST_F_TIMEOUT(dnode, suspend_mid_transfer, 300)
{
	size_t n = 16 * MIB, got = 0, want;
	uint64_t seed = variant->seed + 13, hash = FNV64_INIT;
	char *buf = malloc(65536);
	struct vportx_attach b;
	int fd_b, status, i = 0;
	ssize_t ret;
	pid_t writer;

	ASSERT_NE(NULL, buf);
	fd_b = open_direct_b(self, &b);
	ASSERT_LE(0, fd_b) TH_LOG("direct.b: %s", strerror(-fd_b));
	ASSERT_EQ(0, rig_ctl_ok("source direct.a %zu %" PRIu64, n, seed));
	ASSERT_EQ(0, rig_ctl_ok("sink direct.b %zu %" PRIu64, n, seed + 1));
	writer = fork();
	ASSERT_LE(0, writer);
	if (!writer)
		_exit(rig_send(fd_b, seed + 1, n, 4096, NULL) == (ssize_t)n ?
		      0 : 1);
	while (got < n) {
		want = got + MIB < n ? got + MIB : n;
		while (got < want) {
			ret = read(self->fd, buf, want - got < 65536 ?
				   want - got : 65536);
			ASSERT_LT(0, ret) TH_LOG("read: %s", strerror(errno));
			hash = fnv64_update(hash, buf, ret);
			got += ret;
		}
		ret = suspend_device(self->index, 20);
		ASSERT_EQ(0, ret) TH_LOG("suspend %d: %s", i, strerror(-ret));
		i++;
	}
	EXPECT_EQ(pattern_hash(seed, n), hash);
	ASSERT_EQ(writer, waitpid(writer, &status, 0));
	EXPECT_EQ(0, status);
	rig_sink_check(_metadata, "direct.b", n, pattern_hash(seed + 1, n));
	EXPECT_EQ((long long)n, vportx_node_counter(&b, "tx_bytes"));
	close(fd_b);
	free(buf);
}

/*
 * A host that does not take what direct.b sent keeps the device from
 * suspending: EBUSY, and nothing is lost once the host reads. Then the
 * device suspends.
 */
TEST_F_TIMEOUT(dnode, suspend_refused_while_host_stalls, 120)
{
	uint64_t seed = variant->seed + 14;
	size_t total = 0, cap = 64 * MIB;
	char *buf = malloc(4096);
	struct vportx_attach b;
	ssize_t ret;
	int fd_b;

	ASSERT_NE(NULL, buf);
	fd_b = open_direct_b(self, &b);
	ASSERT_LE(0, fd_b) TH_LOG("direct.b: %s", strerror(-fd_b));
	/* No job on direct.b: the peer leaves its bytes in the socket. */
	ASSERT_EQ(0, fcntl(fd_b, F_SETFL, O_NONBLOCK));
	for (;;) {
		pattern_fill(buf, 4096, seed, total);
		ret = write(fd_b, buf, 4096);
		if (ret < 0 && errno == EAGAIN)
			break;
		ASSERT_LT(0, ret) TH_LOG("write: %s", strerror(errno));
		total += ret;
		ASSERT_GT(cap, total) TH_LOG("the port never filled");
	}
	EXPECT_EQ(-EBUSY, suspend_device(self->index, 20));
	ASSERT_EQ(0, rig_ctl_ok("sink direct.b %zu %" PRIu64, total, seed));
	rig_sink_check(_metadata, "direct.b", total,
		       pattern_hash(seed, total));
	EXPECT_EQ(0, suspend_device(self->index, 20));
	/* Both ports still carry data after the suspend. */
	rig_to_host(_metadata, self->fd, "direct.a", seed + 1, MIB, 4096);
	ASSERT_EQ(0, fcntl(fd_b, F_SETFL, 0));
	rig_to_host(_metadata, fd_b, "direct.b", seed + 2, MIB, 4096);
	close(fd_b);
	free(buf);
}

TEST_HARNESS_MAIN
