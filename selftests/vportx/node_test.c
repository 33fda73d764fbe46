// SPDX-License-Identifier: GPL-2.0
/*
 * The vportx data node /dev/vportxNpM, over each backend with both hold
 * policies: transfers both ways verified end to end by checksum, the
 * stock limits it lifts (reads beyond 4 KiB, writes beyond 32 KiB, data
 * kept while closed with hold=always), exclusive open, O_NONBLOCK, poll,
 * host disconnect, the sysfs attributes and counters, and splice/sendfile.
 * Stacked: only test.unix and test.spare are attached; every test detaches
 * what it attached, and first detaches what an earlier test that died
 * left there. Direct: each test claims the device of direct.a and
 * direct.b, and releases it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/vportx.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "pattern.h"
#include "xfer.h"
#include "vportx_util.h"

#define CTL_PATH "/dev/" VPORTX_CONTROL_NAME
#define HOST_WAIT_MS 10000
#define BIG (64 << 20)
#define MIB (1 << 20)

/* Have the peer send @n bytes of @seed and wait until all are in the guest. */
static void source_landed(struct __test_metadata *_metadata, const char *id,
			  size_t n, uint64_t seed)
{
	char reply[RIG_REPLY_MAX], expect[64];

	ASSERT_EQ(0, rig_ctl_ok("source %s %zu %" PRIu64, id, n, seed));
	ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "wait %s %d", id,
			     RIG_JOB_MS))
		TH_LOG("wait %s: %s", id, reply);
	snprintf(expect, sizeof(expect), "sent %zu", n);
	ASSERT_STREQ(expect, reply);
	ASSERT_EQ(0, rig_wait_unread_zero(id));
}

/* Read into @buf from @have until @total bytes; the final count or -errno. */
static ssize_t read_rest(int fd, char *buf, size_t have, size_t total)
{
	while (have < total) {
		ssize_t n = read(fd, buf + have, total - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : (ssize_t)have;
		have += n;
	}
	return have;
}

/* @n bytes of pattern @seed in a fresh buffer; *@hash gets their checksum. */
static char *pattern_buf(size_t n, uint64_t seed, uint64_t *hash)
{
	char *buf = malloc(n);

	if (buf) {
		pattern_fill(buf, n, seed, 0);
		*hash = fnv64_update(FNV64_INIT, buf, n);
	}
	return buf;
}

/* Write @len bytes of @buf to @fd with vmsplice into a pipe and splice out. */
static ssize_t vmsplice_write(int fd, char *buf, size_t len)
{
	size_t done = 0;
	int p[2];

	if (pipe(p))
		return -errno;
	while (done < len) {
		struct iovec iov = { .iov_base = buf + done,
				     .iov_len = len - done };
		ssize_t in = vmsplice(p[1], &iov, 1, 0), out = 0;

		while (in > 0) {
			out = splice(p[0], NULL, fd, NULL, in, 0);
			if (out <= 0)
				break;
			in -= out;
			done += out;
		}
		if (in != 0 || out < 0)
			break;
	}
	close(p[0]);
	close(p[1]);
	return done;
}

/* Write @len bytes of @buf to a file under /tmp and sendfile them to @fd. */
static ssize_t sendfile_write(int fd, char *buf, size_t len)
{
	char path[] = "/tmp/vportx-sendfile-XXXXXX";
	int file = mkstemp(path);
	off_t off = 0;
	ssize_t n = 0;

	if (file < 0)
		return -errno;
	unlink(path);
	if (write(file, buf, len) != (ssize_t)len) {
		close(file);
		return -EIO;
	}
	while ((size_t)off < len) {
		n = sendfile(fd, file, &off, len - off);
		if (n <= 0)
			break;
	}
	close(file);
	return n < 0 ? -errno : off;
}

/* The main port's node with each hold policy and backend, open. */
FIXTURE(node) {
	int ctl;		/* /dev/vportx-control, open read-write */
	const char *main;	/* the main port: test.unix or direct.a */
	const char *other;	/* the spare port: test.spare or direct.b */
	char stock[32];		/* the main port's stock node, vportNpM */
	struct vportx_attach a;	/* the main port's node */
	int fd;			/* its data node, open read-write, or -1 */
	int claimed;		/* direct: the device is claimed */
	unsigned int index;	/* direct: N of its virtioN */
	unsigned int other_nr;	/* direct: M of the spare's vportNpM */
	int spare_attached;	/* did the test attach the spare too? */
	struct vportx_attach spare;	/* the spare port's node */
	int spare_fd;		/* the spare's data node, or -1 */
};

FIXTURE_VARIANT(node) {
	__u32 hold;		/* VPORTX_HOLD_* to attach or claim with */
	const char *hold_name;	/* what the sysfs attribute hold says */
	int direct;		/* the direct backend, not the stacked one */
	uint64_t seed;		/* first pattern seed; tests add to it */
};

FIXTURE_VARIANT_ADD(node, hold_open) { .hold = VPORTX_HOLD_OPEN,
				       .hold_name = "open", .seed = 2000 };
FIXTURE_VARIANT_ADD(node, hold_always) { .hold = VPORTX_HOLD_ALWAYS,
					 .hold_name = "always", .seed = 2100 };
FIXTURE_VARIANT_ADD(node, direct_hold_open) {
	.hold = VPORTX_HOLD_OPEN, .hold_name = "open", .direct = 1,
	.seed = 2300 };
FIXTURE_VARIANT_ADD(node, direct_hold_always) {
	.hold = VPORTX_HOLD_ALWAYS, .hold_name = "always", .direct = 1,
	.seed = 2400 };

/* Stacked: attach test.unix. */
static void setup_stacked(struct __test_metadata *_metadata,
			  FIXTURE_DATA(node) *self, __u32 hold)
{
	int ret;

	self->main = "test.unix";
	self->other = "test.spare";
	ASSERT_LE(0, rig_port_path(self->main, self->stock,
				   sizeof(self->stock)));
	memmove(self->stock, self->stock + strlen("/dev/"),
		strlen(self->stock) - strlen("/dev/") + 1);
	ret = vportx_attach_port(self->ctl, self->main, hold, &self->a);
	ASSERT_EQ(0, ret) TH_LOG("attach %s: %s", self->main, strerror(-ret));
}

/* Direct: claim the device of direct.a and direct.b. */
static void setup_direct(struct __test_metadata *_metadata,
			 FIXTURE_DATA(node) *self, __u32 hold)
{
	unsigned int nr;
	int ret;

	self->main = "direct.a";
	self->other = "direct.b";
	ret = vportx_direct_pair(self->main, self->other, &self->index, &nr,
				 &self->other_nr);
	ASSERT_EQ(0, ret) TH_LOG("direct ports: %s", strerror(-ret));
	snprintf(self->stock, sizeof(self->stock), "vport%up%u", self->index,
		 nr);
	ASSERT_EQ(0, rig_ctl_ok("reset %s", self->other));
	ret = vportx_claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, self->index,
				 hold);
	ASSERT_EQ(0, ret) TH_LOG("claim virtio%u: %s", self->index,
				 strerror(-ret));
	self->claimed = 1;
	ret = vportx_find_direct(self->ctl, self->index, nr, &self->a);
	ASSERT_EQ(0, ret) TH_LOG("node of %s: %s", self->main,
				 strerror(-ret));
}

FIXTURE_SETUP(node)
{
	self->fd = -1;
	self->spare_fd = -1;
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl)
		TH_LOG("%s: %s (is vportx.ko loaded?)", CTL_PATH,
		       strerror(errno));
	ASSERT_EQ(0, rig_ctl_ok("reset %s", variant->direct ? "direct.a" :
				"test.unix"));
	if (variant->direct)
		setup_direct(_metadata, self, variant->hold);
	else
		setup_stacked(_metadata, self, variant->hold);
	self->fd = vportx_open_node_host(&self->a, HOST_WAIT_MS);
	ASSERT_LE(0, self->fd) TH_LOG("data node: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(node)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->spare_fd >= 0)
		close(self->spare_fd);
	if (!variant->direct)
		vportx_detach_minor(self->ctl, self->a.minor);
	if (self->spare_attached)
		vportx_detach_minor(self->ctl, self->spare.minor);
	if (self->claimed) {
		vportx_claim_ioctl(self->ctl, VPORTX_IOC_RELEASE, self->index,
				   0);
		EXPECT_EQ(0, rig_wait_port(self->main, 1));
		EXPECT_EQ(0, rig_wait_port(self->other, 1));
	}
	close(self->ctl);
	if (!self->main)
		return;
	rig_ctl_ok("reset %s", self->main);
	rig_ctl_ok("reset %s", self->other);
	/* A test that failed with the host away must not leave it away. */
	rig_ctl_ok("connect %s", self->other);
}

/*
 * The spare port's node with hold @hold, open: attached (stacked), or the
 * claimed device's node (direct, whose hold is the claim's).
 */
static void open_spare(struct __test_metadata *_metadata,
		       FIXTURE_DATA(node) *self, __u32 hold)
{
	int ret;

	ASSERT_EQ(0, rig_ctl_ok("reset %s", self->other));
	if (self->claimed) {
		ret = vportx_find_direct(self->ctl, self->index,
					 self->other_nr, &self->spare);
		ASSERT_EQ(0, ret) TH_LOG("node of %s: %s", self->other,
					 strerror(-ret));
	} else {
		ret = vportx_attach_port(self->ctl, self->other, hold,
					 &self->spare);
		ASSERT_EQ(0, ret) TH_LOG("attach %s: %s", self->other,
					 strerror(-ret));
		self->spare_attached = 1;
	}
	self->spare_fd = vportx_open_node_host(&self->spare, HOST_WAIT_MS);
	ASSERT_LE(0, self->spare_fd)
		TH_LOG("data node: %s", strerror(-self->spare_fd));
}

/*
 * 64 MiB out, checked by the peer; once fsync() says the port has it all,
 * tx_bytes has grown by exactly that.
 */
TEST_F_TIMEOUT(node, guest_to_host, 300)
{
	long long before = vportx_node_counter(&self->a, "tx_bytes");

	ASSERT_LE(0, before);
	rig_to_host(_metadata, self->fd, self->main, variant->seed + 1, BIG,
		    MIB);
	EXPECT_EQ(0, fsync(self->fd));
	EXPECT_EQ(before + BIG, vportx_node_counter(&self->a, "tx_bytes"));
}

/* 64 MiB in, every byte checked; rx_bytes grows by exactly what was read. */
TEST_F_TIMEOUT(node, host_to_guest, 300)
{
	long long before = vportx_node_counter(&self->a, "rx_bytes");

	ASSERT_LE(0, before);
	rig_from_host(_metadata, self->fd, self->main, variant->seed + 2, BIG,
		      MIB);
	EXPECT_EQ(before + BIG, vportx_node_counter(&self->a, "rx_bytes"));
}

/* With 64 KiB waiting in the guest, one read() returns more than 4 KiB. */
TEST_F(node, read_more_than_4k)
{
	uint64_t seed = variant->seed + 3;
	char *buf = malloc(65536);
	ssize_t n;

	ASSERT_NE(NULL, buf);
	source_landed(_metadata, self->main, 65536, seed);
	n = read(self->fd, buf, 65536);
	EXPECT_LT(4096, n) TH_LOG("read: %zd (%s)", n, strerror(errno));
	ASSERT_LT(0, n);
	ASSERT_EQ(65536, read_rest(self->fd, buf, n, 65536));
	EXPECT_EQ(-1, pattern_check(buf, 65536, seed, 0));
	free(buf);
}

/* Hand the node 1 MiB one way or another: what was taken, or -1. */
typedef ssize_t (*mib_writer)(int fd, char *buf, size_t len);

static ssize_t one_write(int fd, char *buf, size_t len)
{
	return write(fd, buf, len);
}

/*
 * 1 MiB of pattern @seed into the node of port @id by @writer: all taken,
 * all arrives.
 */
static void write_mib(struct __test_metadata *_metadata, int fd,
		      const char *id, uint64_t seed, mib_writer writer)
{
	uint64_t hash;
	char *buf = pattern_buf(MIB, seed, &hash);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, rig_ctl_ok("sink %s %d %" PRIu64, id, MIB, seed));
	EXPECT_EQ(MIB, writer(fd, buf, MIB)) TH_LOG("%s", strerror(errno));
	rig_sink_check(_metadata, id, MIB, hash);
	free(buf);
}

/* One write() of 1 MiB takes all of it (the stock node takes 32 KiB). */
TEST_F(node, write_more_than_32k)
{
	write_mib(_metadata, self->fd, self->main, variant->seed + 4, one_write);
}

/* 10,000 messages of 64 bytes, one write() each. */
TEST_F_TIMEOUT(node, small_messages, 300)
{
	rig_to_host(_metadata, self->fd, self->main, variant->seed + 5,
		    10000 * 64, 64);
}

TEST_F(node, nonblock_read_eagain)
{
	int flags = fcntl(self->fd, F_GETFL);
	char c;

	ASSERT_LE(0, flags);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags | O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, &c, 1));
	EXPECT_EQ(EAGAIN, errno);
}

/* The data node has one opener at a time. */
TEST_F(node, second_open_ebusy)
{
	EXPECT_EQ(-EBUSY, vportx_open_node(&self->a, O_RDWR));
	EXPECT_EQ(-EBUSY, vportx_open_node(&self->a, O_RDONLY));
}

/*
 * While the data node is open, vportx has the port: the stock node is
 * busy (stacked), or there is none (direct: virtio_console has let the
 * device go).
 */
TEST_F(node, stock_node_busy_while_open)
{
	int want = variant->direct ? -ENOENT : -EBUSY;

	EXPECT_EQ(want, rig_port_open(self->main, O_RDWR));
	EXPECT_EQ(want, rig_port_open(self->main, O_RDONLY));
}

/*
 * With the data node closed, hold=always still holds the port (stock node
 * busy), hold=open lets it go (stock node opens, and once it is closed
 * again the data node opens and moves data). A claimed device has no
 * stock node either way.
 */
TEST_F(node, stock_node_after_close)
{
	int fd;

	close(self->fd);
	self->fd = -1;
	fd = rig_port_open(self->main, O_RDWR);
	if (variant->direct) {
		EXPECT_EQ(-ENOENT, fd);
	} else {
		EXPECT_TRUE(variant->hold == VPORTX_HOLD_ALWAYS ?
			    fd == -EBUSY : fd >= 0)
			TH_LOG("hold=%s: stock node open: %s",
			       variant->hold_name,
			       fd >= 0 ? "succeeded" : strerror(-fd));
	}
	if (fd >= 0)
		close(fd);
	self->fd = vportx_open_node_host(&self->a, HOST_WAIT_MS);
	ASSERT_LE(0, self->fd) TH_LOG("reopen: %s", strerror(-self->fd));
	rig_to_host(_metadata, self->fd, self->main, variant->seed + 6,
		    65536, 65536);
}

/* POLLIN only when data is there; POLLOUT while the host is connected. */
TEST_F(node, poll_in_out)
{
	uint64_t seed = variant->seed + 7;
	char c;

	EXPECT_EQ(-ETIMEDOUT, rig_poll(self->fd, POLLIN, 100));
	EXPECT_EQ(POLLOUT, rig_poll(self->fd, POLLOUT, 5000) &
			   (POLLOUT | POLLHUP));
	ASSERT_EQ(0, rig_ctl_ok("source %s 1 %" PRIu64, self->main, seed));
	EXPECT_EQ(POLLIN, rig_poll(self->fd, POLLIN, 5000) & POLLIN);
	ASSERT_EQ(1, read(self->fd, &c, 1));
	EXPECT_EQ(-1, pattern_check(&c, 1, seed, 0));
	ASSERT_EQ(0, rig_ctl_ok("wait %s %d", self->main, RIG_JOB_MS));
	EXPECT_EQ(-ETIMEDOUT, rig_poll(self->fd, POLLIN, 100));
}

/* Host gone: POLLHUP and EOF. Host back: the node works again. */
TEST_F(node, host_disconnect_reconnect)
{
	int fd;
	char c;

	open_spare(_metadata, self, variant->hold);
	fd = self->spare_fd;
	ASSERT_EQ(0, rig_ctl_ok("disconnect %s", self->other));
	EXPECT_EQ(POLLHUP, rig_poll(fd, POLLIN, 5000) & POLLHUP);
	EXPECT_EQ(0, read(fd, &c, 1));
	ASSERT_EQ(0, rig_ctl_ok("connect %s", self->other));
	ASSERT_EQ(0, rig_wait_host(fd, HOST_WAIT_MS));
	EXPECT_EQ(POLLOUT, rig_poll(fd, POLLOUT, 5000) & (POLLOUT | POLLHUP));
	rig_to_host(_metadata, fd, self->other, variant->seed + 8, 65536,
		    65536);
	rig_from_host(_metadata, fd, self->other, variant->seed + 9, 65536,
		      65536);
}

/*
 * Wait for POLLHUP on @fd. Polling for it alone is no wait when data is
 * pending: POLLIN ends the poll at once, host gone or not.
 */
static int wait_hup(int fd)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (rig_poll(fd, POLLIN, 10) & POLLHUP)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* The host leaving loses nothing: what arrived is read, then EOF. */
TEST_F(node, eof_after_buffered_data)
{
	struct rig_recv res;
	char c;

	open_spare(_metadata, self, variant->hold);
	source_landed(_metadata, self->other, 65536, variant->seed + 15);
	ASSERT_EQ(0, rig_ctl_ok("disconnect %s", self->other));
	EXPECT_EQ(0, wait_hup(self->spare_fd));
	ASSERT_EQ(0, rig_recv(self->spare_fd, variant->seed + 15, 65536,
			      65536, &res));
	EXPECT_EQ(-1, res.bad);
	EXPECT_EQ(0, read(self->spare_fd, &c, 1));
	ASSERT_EQ(0, rig_ctl_ok("connect %s", self->other));
}

/* Ask for SIGIO (as its own real-time-style siginfo) on @fd; blocked. */
static void async_on(struct __test_metadata *_metadata, int fd,
		     sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGIO);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, set, NULL));
	ASSERT_EQ(0, fcntl(fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(fd, F_SETSIG, SIGIO));
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC));
}

/* The si_code of the next SIGIO within 5 s, or -1. */
static int next_sigio(const sigset_t *set)
{
	struct timespec ts = { .tv_sec = 5 };
	siginfo_t si;

	return sigtimedwait(set, &si, &ts) == SIGIO ? si.si_code : -1;
}

/* O_ASYNC: SIGIO with POLL_IN when data arrives, as with the stock node. */
TEST_F(node, sigio_on_data)
{
	sigset_t set;
	char c;

	async_on(_metadata, self->fd, &set);
	ASSERT_EQ(0, rig_ctl_ok("source %s 1 %" PRIu64, self->main,
				 variant->seed + 16));
	EXPECT_EQ(POLL_IN, next_sigio(&set));
	ASSERT_EQ(1, read(self->fd, &c, 1));
	EXPECT_EQ(-1, pattern_check(&c, 1, variant->seed + 16, 0));
	ASSERT_EQ(0, sigprocmask(SIG_UNBLOCK, &set, NULL));
}

/* O_ASYNC: SIGIO with POLL_HUP when the host goes away. */
TEST_F(node, sigio_on_host_gone)
{
	sigset_t set;

	open_spare(_metadata, self, variant->hold);
	async_on(_metadata, self->spare_fd, &set);
	ASSERT_EQ(0, rig_ctl_ok("disconnect %s", self->other));
	EXPECT_EQ(POLL_HUP, next_sigio(&set));
	ASSERT_EQ(0, rig_ctl_ok("connect %s", self->other));
	ASSERT_EQ(0, sigprocmask(SIG_UNBLOCK, &set, NULL));
}

/* Check attribute @attr of @a is @want. */
static void expect_attr(struct __test_metadata *_metadata,
			const struct vportx_attach *a, const char *attr,
			const char *want)
{
	char buf[64];

	ASSERT_EQ(0, vportx_node_sysfs(a, attr, buf, sizeof(buf)))
		TH_LOG("%s", attr);
	EXPECT_STREQ(want, buf) TH_LOG("%s", attr);
}

/* /sys/class/vportx/vportxNpM describes the node, and tracks its opener. */
TEST_F(node, sysfs_attributes)
{
	const char *counters[] = { "rx_bytes", "rx_queued", "tx_bytes",
				   "tx_queued", "tx_pages", "tx_pushes",
				   "stalls", "tx_dropped" };
	char limit[16], low[16];
	size_t i;

	snprintf(limit, sizeof(limit), "%u", VPORTX_TX_LIMIT_DEFAULT);
	snprintf(low, sizeof(low), "%u", VPORTX_TX_LIMIT_DEFAULT / 2);
	expect_attr(_metadata, &self->a, "source", self->stock);
	expect_attr(_metadata, &self->a, "backend",
		    variant->direct ? "direct" : "stacked");
	expect_attr(_metadata, &self->a, "hold", variant->hold_name);
	expect_attr(_metadata, &self->a, "tx_limit", limit);
	expect_attr(_metadata, &self->a, "tx_low", low);
	expect_attr(_metadata, &self->a, "tx_drain_ms", "30000");
	expect_attr(_metadata, &self->a, "open", "1");
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		const char *name = counters[i];

		EXPECT_LE(0, vportx_node_counter(&self->a, name))
			TH_LOG("%s", name);
	}
	/* Root may set tx_drain_ms; it takes numbers only. */
	EXPECT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_drain_ms", "1234"));
	expect_attr(_metadata, &self->a, "tx_drain_ms", "1234");
	EXPECT_EQ(-EINVAL, vportx_node_sysfs_set(&self->a, "tx_drain_ms",
						 "soon"));
	EXPECT_EQ(-ERANGE, vportx_node_sysfs_set(&self->a, "tx_drain_ms",
						 "99999999999"));
	expect_attr(_metadata, &self->a, "tx_drain_ms", "1234");
	/* And tx_coalesce_us, up to a second. */
	expect_attr(_metadata, &self->a, "tx_coalesce_us", "500");
	EXPECT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_coalesce_us",
					   "1000000"));
	expect_attr(_metadata, &self->a, "tx_coalesce_us", "1000000");
	EXPECT_EQ(-ERANGE, vportx_node_sysfs_set(&self->a, "tx_coalesce_us",
						 "1000001"));
	EXPECT_EQ(-EINVAL, vportx_node_sysfs_set(&self->a, "tx_coalesce_us",
						 "-1"));
	EXPECT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_coalesce_us", "0"));
	expect_attr(_metadata, &self->a, "tx_coalesce_us", "0");
	/* rx_budget: a direct node's, in range; a stacked node has none. */
	EXPECT_EQ(-ERANGE, vportx_node_sysfs_set(&self->a, "rx_budget", "0"));
	EXPECT_EQ(-EINVAL, vportx_node_sysfs_set(&self->a, "rx_budget",
						 "lots"));
	if (variant->direct) {
		EXPECT_EQ(0, vportx_node_sysfs_set(&self->a, "rx_budget",
						   "32768"));
		expect_attr(_metadata, &self->a, "rx_budget", "32768");
		EXPECT_EQ(-ERANGE, vportx_node_sysfs_set(&self->a,
							 "rx_budget",
							 "4095"));
	} else {
		EXPECT_EQ(-EOPNOTSUPP, vportx_node_sysfs_set(&self->a,
							     "rx_budget",
							     "32768"));
		expect_attr(_metadata, &self->a, "rx_budget", "0");
	}
	close(self->fd);
	self->fd = -1;
	expect_attr(_metadata, &self->a, "open", "0");
}

/*
 * Write pattern @seed to non-blocking @fd from *@total on, 4 KiB at a time,
 * until EAGAIN; *@total counts what went in. 0, or -errno of a failure.
 */
static int fill_until_full(int fd, uint64_t seed, size_t *total)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		pattern_fill(buf, sizeof(buf), seed, *total);
		n = write(fd, buf, sizeof(buf));
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		*total += n;
		if (*total > 256 * MIB)
			return -EFBIG;
	}
}

/*
 * The same until the host stops taking bytes: the port may take more a
 * little later, so full and no POLLOUT for half a second.
 */
static int fill_until_stalled(int fd, uint64_t seed, size_t *total)
{
	int ret;

	do
		ret = fill_until_full(fd, seed, total);
	while (!ret && rig_poll(fd, POLLOUT, 500) & POLLOUT);
	return ret;
}

/*
 * tx_limit and tx_low change at run time, on either backend. Out of
 * bounds, or with tx_low not below tx_limit, a store is refused and
 * changes nothing. With the host not reading, a queue above a lowered
 * limit takes nothing more; a raised limit lets writes in at once. Every
 * byte arrives once the host reads.
 */
TEST_F_TIMEOUT(node, tx_limits_at_run_time, 120)
{
	uint64_t seed = variant->seed + 15;
	size_t total = 0, before;
	long long queued;

	EXPECT_EQ(-ERANGE, vportx_node_sysfs_set(&self->a, "tx_limit", "4095"));
	EXPECT_EQ(-EINVAL, vportx_node_sysfs_set(&self->a, "tx_limit", "big"));
	EXPECT_EQ(-ERANGE, vportx_node_sysfs_set(&self->a, "tx_low",
						 "1048576"));
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_low", "16384"));
	EXPECT_EQ(-ERANGE, vportx_node_sysfs_set(&self->a, "tx_limit",
						 "16384"));
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_limit", "65536"));
	expect_attr(_metadata, &self->a, "tx_limit", "65536");
	expect_attr(_metadata, &self->a, "tx_low", "16384");
	/* The fixture's reset left no job on the port: the host stalls. */
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(0, fill_until_stalled(self->fd, seed, &total));
	queued = vportx_node_counter(&self->a, "tx_queued");
	EXPECT_LT(16384, queued);
	EXPECT_GE(65536, queued);
	/*
	 * Lowered below what is queued: full until down to tx_low. The port
	 * may still have taken some after the stall looked complete, so go
	 * well below the 16384 bytes queued at least: 4096, tx_low 0.
	 */
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_low", "0"));
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_limit", "4096"));
	EXPECT_EQ(0, rig_poll(self->fd, POLLOUT, 200) & POLLOUT);
	before = total;
	ASSERT_EQ(0, fill_until_full(self->fd, seed, &total));
	EXPECT_EQ(before, total);
	/* Raised: room at once. */
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_limit", "131072"));
	EXPECT_EQ(POLLOUT, rig_poll(self->fd, POLLOUT, 1000) & POLLOUT);
	before = total;
	ASSERT_EQ(0, fill_until_full(self->fd, seed, &total));
	EXPECT_LE(before + 65536, total);
	EXPECT_GE(131072, vportx_node_counter(&self->a, "tx_queued"));
	ASSERT_EQ(0, rig_ctl_ok("sink %s %zu %" PRIu64, self->main, total,
				seed));
	rig_sink_check(_metadata, self->main, total, pattern_hash(seed, total));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, 0));
	EXPECT_EQ(0, fsync(self->fd));
	EXPECT_EQ(0, vportx_node_counter(&self->a, "tx_queued"));
}

/*
 * Reopen the node of @self and read @n bytes of pattern @seed from it,
 * then close it again.
 */
static void reopen_recv(struct __test_metadata *_metadata,
			FIXTURE_DATA(node) *self, size_t n, uint64_t seed)
{
	struct rig_recv res;

	self->fd = vportx_open_node_host(&self->a, HOST_WAIT_MS);
	ASSERT_LE(0, self->fd) TH_LOG("reopen: %s", strerror(-self->fd));
	ASSERT_EQ(0, rig_recv(self->fd, seed, n, n, &res));
	EXPECT_EQ(-1, res.bad);
	close(self->fd);
	self->fd = -1;
}

/*
 * hold changes at run time, on either backend, while the node is closed
 * (EBUSY while open). Set to always, the closed node's port takes what the
 * host sends. Set back to open, it takes nothing until opened. A direct
 * node keeps what it took for the reader; a stacked node's port would drop
 * it at close, so going to hold=open is EBUSY until it is read.
 */
TEST_F_TIMEOUT(node, hold_at_run_time, 120)
{
	uint64_t seed = variant->seed + 16;
	const char *other = variant->hold == VPORTX_HOLD_ALWAYS ? "open" :
			    "always";

	EXPECT_EQ(-EINVAL, vportx_node_sysfs_set(&self->a, "hold", "often"));
	EXPECT_EQ(-EBUSY, vportx_node_sysfs_set(&self->a, "hold", other));
	EXPECT_EQ(0, vportx_node_sysfs_set(&self->a, "hold",
					   variant->hold_name));
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "hold", "always"));
	expect_attr(_metadata, &self->a, "hold", "always");
	source_landed(_metadata, self->main, 8192, seed);
	if (!variant->direct) {
		EXPECT_EQ(-EBUSY, vportx_node_sysfs_set(&self->a, "hold",
							"open"));
		reopen_recv(_metadata, self, 8192, seed);
	} else {
		EXPECT_EQ(8192, vportx_node_counter(&self->a, "rx_queued"));
	}
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "hold", "open"));
	expect_attr(_metadata, &self->a, "hold", "open");
	/* The port is closed: QEMU passes nothing on. */
	ASSERT_EQ(0, rig_ctl_ok("source %s 4096 %" PRIu64, self->main,
				seed + 1));
	usleep(500000);
	if (variant->direct) {
		EXPECT_EQ(8192, vportx_node_counter(&self->a, "rx_queued"));
		reopen_recv(_metadata, self, 8192, seed);
	}
	reopen_recv(_metadata, self, 4096, seed + 1);
}

/* INFO agrees with sysfs: one opener, and the same byte counters. */
TEST_F(node, info_matches_sysfs)
{
	struct vportx_info info = { .minor = self->a.minor };

	rig_to_host(_metadata, self->fd, self->main, variant->seed + 10,
		    65536, 65536);
	rig_from_host(_metadata, self->fd, self->main, variant->seed + 11,
		      8192, 8192);
	ASSERT_EQ(0, fsync(self->fd));
	ASSERT_EQ(0, ioctl(self->ctl, VPORTX_IOC_INFO, &info));
	EXPECT_EQ(1, info.open_count);
	EXPECT_EQ(vportx_node_counter(&self->a, "tx_bytes"),
		  (long long)info.tx_bytes);
	EXPECT_EQ(vportx_node_counter(&self->a, "rx_bytes"),
		  (long long)info.rx_bytes);
	EXPECT_LE(65536, info.tx_bytes);
	EXPECT_LE(8192, info.rx_bytes);
}

/*
 * splice() from the node: the stacked backend has none (EINVAL, and the
 * data stays readable); the direct backend moves the data into the pipe.
 */
TEST_F(node, splice_read)
{
	uint64_t seed = variant->seed + 12;
	struct rig_recv res;
	char buf[4096];
	ssize_t n;
	int p[2];

	ASSERT_EQ(0, pipe(p));
	source_landed(_metadata, self->main, 4096, seed);
	n = splice(self->fd, NULL, p[1], NULL, 4096, SPLICE_F_NONBLOCK);
	if (variant->direct) {
		EXPECT_EQ(4096, n) TH_LOG("splice: %s", strerror(errno));
		EXPECT_EQ(n, read(p[0], buf, sizeof(buf)));
		EXPECT_EQ(-1, pattern_check(buf, n > 0 ? n : 0, seed, 0));
	} else {
		EXPECT_EQ(-1, n);
		EXPECT_EQ(EINVAL, errno);
		ASSERT_EQ(0, rig_recv(self->fd, seed, 4096, 4096, &res));
		EXPECT_EQ(-1, res.bad);
	}
	close(p[0]);
	close(p[1]);
}

/* vmsplice into a pipe, splice from it into the node: 1 MiB arrives intact. */
TEST_F(node, vmsplice_splice_write)
{
	write_mib(_metadata, self->fd, self->main, variant->seed + 13, vmsplice_write);
}

/* sendfile from a regular file into the node: 1 MiB arrives intact. */
TEST_F(node, sendfile_write)
{
	write_mib(_metadata, self->fd, self->main, variant->seed + 14, sendfile_write);
}

/*
 * hold=always: what the host sends while no application has the data node
 * open is kept, and read after it is opened again. (The stock node drops
 * it; with hold=open QEMU does not even pass it on, the port being closed.)
 */
TEST(hold_always_keeps_data)
{
	struct vportx_attach a;
	struct rig_recv res;
	int ctl, fd, ret;

	ASSERT_EQ(0, rig_ctl_ok("reset test.spare"));
	ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ctl) TH_LOG("%s: %s", CTL_PATH, strerror(errno));
	ret = vportx_attach_port(ctl, "test.spare", VPORTX_HOLD_ALWAYS, &a);
	ASSERT_EQ(0, ret) TH_LOG("attach test.spare: %s", strerror(-ret));
	fd = vportx_open_node_host(&a, HOST_WAIT_MS);
	ASSERT_LE(0, fd) TH_LOG("data node: %s", strerror(-fd));
	close(fd);
	source_landed(_metadata, "test.spare", 8192, 2201);
	fd = vportx_open_node(&a, O_RDWR);
	ASSERT_LE(0, fd) TH_LOG("reopen: %s", strerror(-fd));
	ASSERT_EQ(POLLIN, rig_poll(fd, POLLIN, 5000) & POLLIN);
	ASSERT_EQ(0, rig_recv(fd, 2201, 8192, 8192, &res));
	EXPECT_EQ(-1, res.bad);
	close(fd);
	EXPECT_EQ(0, vportx_detach_minor(ctl, a.minor));
	close(ctl);
	rig_ctl_ok("reset test.spare");
}

TEST_HARNESS_MAIN
