// SPDX-License-Identifier: GPL-2.0
/*
 * The TX queue of a vportx data node: write() queues up to tx_limit bytes
 * the port has not taken, blocks or says EAGAIN beyond, and POLLOUT comes
 * back once the queue has drained; the queue keeps bytes while the host is
 * away and delivers them when it is back; close() of a hold=open node
 * drains for tx_drain_ms and drops the rest, close() of a hold=always
 * node keeps the queue; fsync() waits for the queue; splice after write
 * keeps the order; one port's full queue does not hold up another port.
 * Every byte that arrives is checked by the host peer, and the counters
 * tx_bytes + tx_queued + tx_dropped account for every byte written.
 *
 * The host side of the port is taken away ("disconnect") to stop it from
 * taking bytes: then whatever is written stays in the queue.
 *
 * Over each backend: stacked on test.spare (test.unix beside it), and
 * direct on direct.b (direct.a beside it), the device claimed for each
 * test and the node's tx_limit and tx_low set in sysfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <liburing.h>

#include <linux/vportx.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "pattern.h"
#include "xfer.h"
#include "vportx_util.h"

#define CTL_PATH "/dev/" VPORTX_CONTROL_NAME
#define WAIT_MS 10000
#define LIMIT 65536
#define LOW 16384
#define XSTR(x) #x
#define STR(x) XSTR(x)

/* The port's node with a 64 KiB queue, open. */
FIXTURE(tx) {
	int ctl;
	const char *port;	/* test.spare or direct.b */
	const char *other;	/* test.unix or direct.a */
	struct vportx_attach a;
	int fd;			/* the data node, or -1 once closed */
	int claimed;		/* direct: the device is claimed */
	unsigned int index;	/* direct: N of its virtioN */
	unsigned int other_nr;	/* direct: M of the other port's vportNpM */
};

FIXTURE_VARIANT(tx) {
	__u32 hold;
	int direct;		/* the direct backend, not the stacked one */
	uint64_t seed;		/* first pattern seed; tests add to it */
};

FIXTURE_VARIANT_ADD(tx, hold_open) { .hold = VPORTX_HOLD_OPEN, .seed = 3000 };
FIXTURE_VARIANT_ADD(tx, hold_always) { .hold = VPORTX_HOLD_ALWAYS,
				       .seed = 3100 };
FIXTURE_VARIANT_ADD(tx, direct_hold_open) { .hold = VPORTX_HOLD_OPEN,
					    .direct = 1, .seed = 3200 };
FIXTURE_VARIANT_ADD(tx, direct_hold_always) { .hold = VPORTX_HOLD_ALWAYS,
					      .direct = 1, .seed = 3300 };

/* Direct: claim the device of direct.a and direct.b; direct.b's node. */
static void setup_direct(struct __test_metadata *_metadata,
			 FIXTURE_DATA(tx) *self, __u32 hold)
{
	unsigned int nr;
	int ret;

	ret = vportx_direct_pair(self->port, self->other, &self->index, &nr,
				 &self->other_nr);
	ASSERT_EQ(0, ret) TH_LOG("direct ports: %s", strerror(-ret));
	ret = vportx_claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, self->index,
				 hold);
	ASSERT_EQ(0, ret) TH_LOG("claim: %s", strerror(-ret));
	self->claimed = 1;
	ret = vportx_find_direct(self->ctl, self->index, nr, &self->a);
	ASSERT_EQ(0, ret) TH_LOG("node of %s: %s", self->port, strerror(-ret));
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_low", STR(LOW)));
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_limit", STR(LIMIT)));
}

FIXTURE_SETUP(tx)
{
	int ret;

	self->fd = -1;
	self->port = variant->direct ? "direct.b" : "test.spare";
	self->other = variant->direct ? "direct.a" : "test.unix";
	ASSERT_EQ(0, rig_ctl_ok("reset %s", self->port));
	ASSERT_EQ(0, rig_ctl_ok("connect %s", self->port));
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl) TH_LOG("%s: %s", CTL_PATH, strerror(errno));
	if (variant->direct) {
		setup_direct(_metadata, self, variant->hold);
	} else {
		ret = vportx_attach_port_tx(self->ctl, self->port,
					    variant->hold, LIMIT, LOW,
					    &self->a);
		ASSERT_EQ(0, ret) TH_LOG("attach %s: %s", self->port,
					 strerror(-ret));
	}
	self->fd = vportx_open_node_host(&self->a, WAIT_MS);
	ASSERT_LE(0, self->fd) TH_LOG("data node: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(tx)
{
	/* A failed test may leave bytes queued: do not wait for them. */
	vportx_node_sysfs_set(&self->a, "tx_drain_ms", "0");
	if (self->fd >= 0)
		close(self->fd);
	if (self->claimed) {
		vportx_claim_ioctl(self->ctl, VPORTX_IOC_RELEASE, self->index,
				   0);
		EXPECT_EQ(0, rig_wait_port(self->port, 1));
		EXPECT_EQ(0, rig_wait_port(self->other, 1));
	} else {
		vportx_detach_minor(self->ctl, self->a.minor);
	}
	close(self->ctl);
	rig_ctl_ok("reset %s", self->port);
	rig_ctl_ok("connect %s", self->port);
}

static long long attr(FIXTURE_DATA(tx) *self, const char *name)
{
	return vportx_node_counter(&self->a, name);
}

/* Take the host away and wait until the node knows: the port takes nothing. */
static void host_away(struct __test_metadata *_metadata,
		      FIXTURE_DATA(tx) *self)
{
	ASSERT_EQ(0, rig_ctl_ok("disconnect %s", self->port));
	ASSERT_EQ(0, vportx_wait_attr(&self->a, "host_connected", "0",
				      WAIT_MS));
}

/*
 * Bring the host back and start a sink for @n bytes of pattern @seed.
 * The guest learns of the host a control message after the peer has
 * connected; until then poll() says EPOLLHUP at once, so wait for it.
 */
static void host_back_sink(struct __test_metadata *_metadata,
			   FIXTURE_DATA(tx) *self, size_t n, uint64_t seed)
{
	ASSERT_EQ(0, rig_ctl_ok("connect %s", self->port));
	ASSERT_EQ(0, vportx_wait_attr(&self->a, "host_connected", "1",
				      WAIT_MS));
	ASSERT_EQ(0, rig_ctl_ok("sink %s %zu %" PRIu64, self->port, n, seed));
}

/* Bytes [@off, @off + @len) of pattern @seed, in a fresh buffer. */
static char *pattern_part(uint64_t seed, size_t off, size_t len)
{
	char *buf = malloc(len);

	if (buf)
		pattern_fill(buf, len, seed, off);
	return buf;
}

/* write() bytes [@off, @off + @len) of pattern @seed to @fd: the result. */
static ssize_t write_part(int fd, uint64_t seed, size_t off, size_t len)
{
	char *buf = pattern_part(seed, off, len);
	ssize_t n = buf ? write(fd, buf, len) : -1;

	free(buf);
	return n;
}

static void set_nonblock(struct __test_metadata *_metadata, int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	ASSERT_LE(0, fl);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK));
}

/* Wait until the node's queue is empty: every byte is the port's. */
static int queue_empty(FIXTURE_DATA(tx) *self)
{
	return vportx_wait_attr(&self->a, "tx_queued", "0", WAIT_MS);
}

/*
 * With the host away the queue takes exactly tx_limit bytes, then EAGAIN
 * and no POLLOUT; with the host back it drains, POLLOUT returns, and the
 * host gets every byte in order.
 */
TEST_F(tx, limit_eagain_pollout)
{
	uint64_t seed = variant->seed + 1;
	size_t total = LIMIT + 40000;

	host_away(_metadata, self);
	set_nonblock(_metadata, self->fd, 1);
	EXPECT_EQ(POLLOUT, rig_poll(self->fd, POLLOUT, 1000) & POLLOUT);
	ASSERT_EQ(LIMIT, write_part(self->fd, seed, 0, total));
	EXPECT_EQ(-1, write_part(self->fd, seed, LIMIT, total - LIMIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, rig_poll(self->fd, POLLOUT, 200) & POLLOUT);
	EXPECT_EQ(LIMIT, attr(self, "tx_queued"));
	EXPECT_EQ(2, attr(self, "stalls"));
	EXPECT_EQ(0, attr(self, "tx_bytes"));

	host_back_sink(_metadata, self, total, seed);
	EXPECT_EQ(POLLOUT, rig_poll(self->fd, POLLOUT, WAIT_MS) & POLLOUT);
	EXPECT_LE(attr(self, "tx_queued"), LOW);
	ASSERT_EQ((ssize_t)(total - LIMIT),
		  write_part(self->fd, seed, LIMIT, total - LIMIT));
	rig_sink_check(_metadata, self->port, total, pattern_hash(seed, total));
	EXPECT_EQ(0, queue_empty(self));
	EXPECT_EQ((long long)total, attr(self, "tx_bytes"));
}

/* pwritev2() of bytes [@off, @off + @len) of pattern @seed with @flags. */
static ssize_t pwritev2_part(int fd, uint64_t seed, size_t off, size_t len,
			     int flags)
{
	char *buf = pattern_part(seed, off, len);
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	ssize_t n = buf ? pwritev2(fd, &iov, 1, -1, flags) : -1;

	free(buf);
	return n;
}

/*
 * RWF_NOWAIT (what io_uring asks first, inline, of a file that honours
 * it): on a blocking node, as much as the queue takes and then EAGAIN
 * instead of blocking; nothing lost.
 */
TEST_F(tx, rwf_nowait_never_blocks)
{
	uint64_t seed = variant->seed + 13;
	size_t total = LIMIT + 40000;

	host_away(_metadata, self);
	ASSERT_EQ(LIMIT, pwritev2_part(self->fd, seed, 0, total, RWF_NOWAIT))
		TH_LOG("pwritev2: %s", strerror(errno));
	EXPECT_EQ(-1, pwritev2_part(self->fd, seed, LIMIT, total - LIMIT,
				    RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(LIMIT, attr(self, "tx_queued"));

	host_back_sink(_metadata, self, total, seed);
	ASSERT_EQ((ssize_t)(total - LIMIT),
		  pwritev2_part(self->fd, seed, LIMIT, total - LIMIT, 0));
	rig_sink_check(_metadata, self->port, total, pattern_hash(seed, total));
	EXPECT_EQ((long long)total, attr(self, "tx_bytes"));
}

/*
 * io_uring writes to a blocking node inline (the node honours IOCB_NOWAIT):
 * with the host away the first write takes tx_limit and completes short;
 * the next waits in io_uring's poll, not in a worker, until the host is
 * back and the queue has room; then it completes, and the host gets every
 * byte in order.
 */
TEST_F(tx, io_uring_waits_in_poll)
{
	uint64_t seed = variant->seed + 14;
	size_t total = LIMIT + 40000, done = 0;
	char *buf = pattern_part(seed, 0, total);
	struct __kernel_timespec ts = { .tv_nsec = 200 * 1000 * 1000 };
	struct io_uring_cqe *cqe;
	struct io_uring ring;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	host_away(_metadata, self);
	io_uring_prep_write(io_uring_get_sqe(&ring), self->fd, buf, total, -1);
	ASSERT_EQ(1, io_uring_submit_and_wait(&ring, 1));
	ASSERT_EQ(0, io_uring_peek_cqe(&ring, &cqe));
	EXPECT_EQ(LIMIT, cqe->res);
	done = cqe->res > 0 ? cqe->res : 0;
	io_uring_cqe_seen(&ring, cqe);

	io_uring_prep_write(io_uring_get_sqe(&ring), self->fd, buf + done,
			    total - done, -1);
	ASSERT_EQ(1, io_uring_submit(&ring));
	EXPECT_EQ(-ETIME, io_uring_wait_cqe_timeout(&ring, &cqe, &ts));
	EXPECT_EQ(LIMIT, attr(self, "tx_queued"));

	host_back_sink(_metadata, self, total, seed);
	while (done < total) {
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		ASSERT_LT(0, cqe->res) TH_LOG("write: %s", strerror(-cqe->res));
		done += cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (done < total) {
			io_uring_prep_write(io_uring_get_sqe(&ring), self->fd,
					    buf + done, total - done, -1);
			ASSERT_EQ(1, io_uring_submit(&ring));
		}
	}
	rig_sink_check(_metadata, self->port, total, pattern_hash(seed, total));
	io_uring_queue_exit(&ring);
	free(buf);
}

/*
 * With the host away, a child writes @total bytes of pattern @seed in one
 * write(); returns once the queue is full and the child blocked in it.
 * The child exits 0 once the write took all of them. The queue is full
 * before the writer counts its stall and waits, so wait for both.
 */
static pid_t writer_stuck_at_limit(struct __test_metadata *_metadata,
				   FIXTURE_DATA(tx) *self, uint64_t seed,
				   size_t total)
{
	uint64_t hash;
	pid_t pid;

	host_away(_metadata, self);
	pid = fork();
	if (pid == 0)
		_exit(rig_send(self->fd, seed, total, total, &hash) ==
		      (ssize_t)total ? 0 : 1);
	EXPECT_LE(0, pid);
	EXPECT_EQ(0, vportx_wait_attr(&self->a, "tx_queued", "65536",
				      WAIT_MS));
	EXPECT_EQ(0, vportx_wait_attr(&self->a, "stalls", "1", WAIT_MS));
	return pid;
}

/* A blocking writer waits at the limit and finishes once the host reads. */
TEST_F(tx, blocked_writer_resumes)
{
	uint64_t seed = variant->seed + 2;
	size_t total = 4 * LIMIT + 123;
	int status;
	pid_t pid;

	pid = writer_stuck_at_limit(_metadata, self, seed, total);
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG)) TH_LOG("writer ended");
	host_back_sink(_metadata, self, total, seed);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rig_sink_check(_metadata, self->port, total, pattern_hash(seed, total));
	EXPECT_EQ(0, queue_empty(self));
	EXPECT_EQ((long long)total, attr(self, "tx_bytes"));
}

/*
 * close() with bytes queued and the host away. hold=open waits up to
 * tx_drain_ms, then drops them and counts them in tx_dropped; hold=always
 * keeps them queued and delivers them once the host is back.
 */
TEST_F(tx, close_with_host_away)
{
	uint64_t seed = variant->seed + 3;
	size_t n = 10000;
	int open = variant->hold == VPORTX_HOLD_OPEN;

	host_away(_metadata, self);
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_drain_ms", "200"));
	ASSERT_EQ((ssize_t)n, write_part(self->fd, seed, 0, n));
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(open ? (long long)n : 0, attr(self, "tx_dropped"));
	EXPECT_EQ(open ? 0 : (long long)n, attr(self, "tx_queued"));
	EXPECT_EQ(0, attr(self, "tx_bytes"));
	if (open)
		return;
	host_back_sink(_metadata, self, n, seed);
	rig_sink_check(_metadata, self->port, n, pattern_hash(seed, n));
	EXPECT_EQ(0, queue_empty(self));
	EXPECT_EQ((long long)n, attr(self, "tx_bytes"));
}

/* close() of a hold=open node waits until the port has the queued bytes. */
TEST_F(tx, close_drains)
{
	uint64_t seed = variant->seed + 4;
	size_t n = 3 * LIMIT / 4;
	pid_t pid;

	host_away(_metadata, self);
	ASSERT_EQ((ssize_t)n, write_part(self->fd, seed, 0, n));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		usleep(300000);
		_exit(rig_ctl_ok("connect %s", self->port) ? 1 : 0);
	}
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(pid, waitpid(pid, NULL, 0));
	if (variant->hold == VPORTX_HOLD_OPEN) {
		EXPECT_EQ(0, attr(self, "tx_queued"));
		EXPECT_EQ((long long)n, attr(self, "tx_bytes"));
	}
	EXPECT_EQ(0, attr(self, "tx_dropped"));
	ASSERT_EQ(0, rig_ctl_ok("sink %s %zu %" PRIu64, self->port, n, seed));
	rig_sink_check(_metadata, self->port, n, pattern_hash(seed, n));
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* SIGALRM in @ms, with a handler that interrupts system calls. */
static void alarm_ms(int ms)
{
	struct sigaction sa = { .sa_handler = on_alarm };

	sigaction(SIGALRM, &sa, NULL);
	ualarm(ms * 1000, 0);
}

/* A signal ends close()'s wait; what was queued is dropped, and counted. */
TEST_F(tx, close_interrupted)
{
	uint64_t seed = variant->seed + 5;
	size_t n = 5000;
	int open = variant->hold == VPORTX_HOLD_OPEN;

	host_away(_metadata, self);
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_drain_ms", "600000"));
	ASSERT_EQ((ssize_t)n, write_part(self->fd, seed, 0, n));
	alarm_ms(300);
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(open ? (long long)n : 0, attr(self, "tx_dropped"));
	EXPECT_EQ(open ? 0 : (long long)n, attr(self, "tx_queued"));
}

/* fsync() returns once the port has everything: EINTR if a signal comes. */
TEST_F(tx, fsync_waits_for_port)
{
	uint64_t seed = variant->seed + 6;
	size_t n = 20000;

	host_away(_metadata, self);
	ASSERT_EQ((ssize_t)n, write_part(self->fd, seed, 0, n));
	alarm_ms(200);
	EXPECT_EQ(-1, fsync(self->fd));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ((long long)n, attr(self, "tx_queued"));
	host_back_sink(_metadata, self, n, seed);
	EXPECT_EQ(0, fsync(self->fd));
	EXPECT_EQ(0, attr(self, "tx_queued"));
	EXPECT_EQ((long long)n, attr(self, "tx_bytes"));
	rig_sink_check(_metadata, self->port, n, pattern_hash(seed, n));
}

/* splice into @fd the @len bytes of @buf through a pipe: the result. */
static ssize_t vmsplice_part(int fd, char *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	ssize_t in, out = 0, n;
	int p[2];

	if (pipe(p))
		return -1;
	in = vmsplice(p[1], &iov, 1, 0);
	while (in > 0 && out < in) {
		n = splice(p[0], NULL, fd, NULL, in - out, 0);
		if (n <= 0) {
			out = n < 0 ? n : out;
			break;
		}
		out += n;
	}
	close(p[0]);
	close(p[1]);
	return out;
}

/*
 * splice after write keeps the order, write, splice, write: on a direct
 * node it waits for the queued bytes (EAGAIN when the node is
 * non-blocking), on a stacked one it is queued behind them, as a write.
 */
TEST_F(tx, splice_after_write_keeps_order)
{
	uint64_t seed = variant->seed + 7;
	size_t a = 3000, b = 40000, c = 5000, total = a + b + c;
	char *mid = pattern_part(seed, a, b);

	ASSERT_NE(NULL, mid);
	host_away(_metadata, self);
	ASSERT_EQ((ssize_t)a, write_part(self->fd, seed, 0, a));
	set_nonblock(_metadata, self->fd, 1);
	if (variant->direct) {
		EXPECT_EQ(-1, vmsplice_part(self->fd, mid, b));
		EXPECT_EQ(EAGAIN, errno);
	} else {
		EXPECT_EQ((ssize_t)b, vmsplice_part(self->fd, mid, b));
		EXPECT_EQ((long long)(a + b), attr(self, "tx_queued"));
	}
	set_nonblock(_metadata, self->fd, 0);
	host_back_sink(_metadata, self, total, seed);
	if (variant->direct)
		EXPECT_EQ((ssize_t)b, vmsplice_part(self->fd, mid, b));
	EXPECT_EQ((ssize_t)c, write_part(self->fd, seed, a + b, c));
	rig_sink_check(_metadata, self->port, total, pattern_hash(seed, total));
	EXPECT_EQ(0, queue_empty(self));
	EXPECT_EQ((long long)total, attr(self, "tx_bytes"));
	free(mid);
}

/*
 * Small writes share pages, and one push hands them all to the port: a
 * thousand 64-byte writes made while the host was away leave in a single
 * push. The queue holds no pages before the first write, and none again
 * once the node is closed.
 */
TEST_F(tx, small_writes_coalesce)
{
	uint64_t seed = variant->seed + 10;
	size_t i, n = 1000, len = 64;

	EXPECT_EQ(0, attr(self, "tx_pages"));
	host_away(_metadata, self);
	for (i = 0; i < n; i++)
		ASSERT_EQ((ssize_t)len, write_part(self->fd, seed, i * len, len));
	EXPECT_EQ((long long)(n * len), attr(self, "tx_queued"));
	EXPECT_EQ((long long)((n * len + 4095) / 4096), attr(self, "tx_pages"));
	EXPECT_EQ(0, attr(self, "tx_pushes"));
	host_back_sink(_metadata, self, n * len, seed);
	rig_sink_check(_metadata, self->port, n * len, pattern_hash(seed, n * len));
	EXPECT_EQ(0, queue_empty(self));
	EXPECT_EQ(1, attr(self, "tx_pushes"));
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(0, attr(self, "tx_pages"));
}

/*
 * A write after a pause is the port's when write() returns: the writer
 * pushed it itself, as one push.
 */
TEST_F(tx, write_after_pause_pushed_at_once)
{
	uint64_t seed = variant->seed + 11;
	size_t i, len = 100;

	ASSERT_EQ(0, rig_ctl_ok("sink %s %zu %" PRIu64, self->port, 3 * len, seed));
	for (i = 0; i < 3; i++) {
		usleep(20000);
		ASSERT_EQ((ssize_t)len, write_part(self->fd, seed, i * len, len));
		EXPECT_EQ(0, attr(self, "tx_queued"));
		EXPECT_EQ((long long)i + 1, attr(self, "tx_pushes"));
	}
	rig_sink_check(_metadata, self->port, 3 * len, pattern_hash(seed, 3 * len));
}

/*
 * A stream of small writes is pushed in far fewer pushes than writes, and
 * its tail reaches the host without fsync() or close(): the TX work pushes
 * it tx_coalesce_us after the stream stops.
 */
TEST_F(tx, stream_tail_pushed_without_fsync)
{
	uint64_t seed = variant->seed + 12;
	size_t i, n = 2000, len = 16;
	char *buf = pattern_part(seed, 0, n * len);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, vportx_node_sysfs_set(&self->a, "tx_coalesce_us",
					   "100000"));
	ASSERT_EQ(0, rig_ctl_ok("sink %s %zu %" PRIu64, self->port, n * len, seed));
	for (i = 0; i < n; i++)
		ASSERT_EQ((ssize_t)len, write(self->fd, buf + i * len, len));
	free(buf);
	rig_sink_check(_metadata, self->port, n * len, pattern_hash(seed, n * len));
	EXPECT_EQ(0, attr(self, "tx_queued"));
	EXPECT_EQ((long long)(n * len), attr(self, "tx_bytes"));
	EXPECT_GT((long long)n / 10, attr(self, "tx_pushes"));
}

/* Many small writes are queued, pushed together, and all arrive in order. */
TEST_F_TIMEOUT(tx, small_writes, 300)
{
	uint64_t seed = variant->seed + 8;

	rig_to_host(_metadata, self->fd, self->port, seed, 20000 * 64, 64);
	EXPECT_EQ(0, queue_empty(self));
	EXPECT_EQ(20000 * 64, attr(self, "tx_bytes"));
	EXPECT_GE(20000, attr(self, "tx_pushes"));
	EXPECT_LE(1, attr(self, "tx_pushes"));
}

/* While the port's writer is stuck at its limit, the other port moves 1 MiB. */
TEST_F_TIMEOUT(tx, full_port_does_not_stall_another, 300)
{
	uint64_t seed = variant->seed + 9;
	struct vportx_attach other;
	size_t total = 2 * LIMIT;
	int fd, ret, status;
	pid_t pid;

	pid = writer_stuck_at_limit(_metadata, self, seed, total);
	ASSERT_EQ(0, rig_ctl_ok("reset %s", self->other));
	if (self->claimed)
		ret = vportx_find_direct(self->ctl, self->index,
					 self->other_nr, &other);
	else
		ret = vportx_attach_port(self->ctl, self->other, variant->hold,
					 &other);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", self->other, strerror(-ret));
	fd = vportx_open_node_host(&other, WAIT_MS);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", self->other, strerror(-fd));
	rig_to_host(_metadata, fd, self->other, seed + 50, 1 << 20, 65536);
	close(fd);
	if (!self->claimed)
		EXPECT_EQ(0, vportx_detach_minor(self->ctl, other.minor));
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG)) TH_LOG("writer ended");
	host_back_sink(_metadata, self, total, seed);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rig_sink_check(_metadata, self->port, total, pattern_hash(seed, total));
}

TEST_HARNESS_MAIN
