// SPDX-License-Identifier: GPL-2.0
/*
 * Faults under load, every byte checked:
 *   host_away: the host disconnects and reconnects 50 times per backend
 *     (test.spare stacked, direct.a claimed) in the middle of a transfer
 *     each way. What the guest had received stays readable while the
 *     host is away; what it writes while the host is away is queued and
 *     reaches the host once it is back. Nothing is lost or repeated.
 *   unplug_mid_io: 20 hot-unplugs of a port under a read, a write or a
 *     splice blocked on its node. Each returns ENODEV, the bytes read
 *     before it match the pattern, and the node goes at its close.
 *   module_reload: rmmod and insmod 20 times while another thread opens
 *     the control device and closes it again. Every open and every
 *     removal succeeds or fails with its errno.
 *   many_ports_under_pressure: 16 ports (many.*), both ways, for
 *     VPORTX_SOAK_SECONDS (default 180), while a child process takes the
 *     guest's memory down to 128 MiB available and gives it back, over
 *     and over. After that the kernel holds no more pages than before,
 *     give or take its slab caches' growth.
 * Each test prints its figures.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/vportx.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "pattern.h"
#include "vportx_util.h"
#include "xfer.h"

#define CTL_PATH "/dev/" VPORTX_CONTROL_NAME
#define WAIT_MS 10000
#define MANY VPORTX_MANY

/* Read exactly @len bytes at stream offset @off of pattern @seed. */
static int recv_at(int fd, uint64_t seed, uint64_t off, size_t len)
{
	static char buf[65536];
	ssize_t n;

	while (len) {
		n = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EPIPE;
		if (pattern_check(buf, n, seed, off) >= 0)
			return -EILSEQ;
		off += n;
		len -= n;
	}
	return 0;
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

FIXTURE(soak) {
	int ctl;
	unsigned int index;	/* the direct device, once claimed */
	int claimed;
};

FIXTURE_SETUP(soak)
{
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl);
}

FIXTURE_TEARDOWN(soak)
{
	if (self->claimed)
		vportx_claim_ioctl(self->ctl, VPORTX_IOC_RELEASE, self->index, 0);
	vportx_release_port(self->ctl, "test.spare");
	close(self->ctl);
}

/* The node of @id: test.spare attached, or direct.a with its device claimed. */
static int host_away_node(FIXTURE_DATA(soak) *self, int direct,
			  struct vportx_attach *a)
{
	unsigned int nr, nr_b;

	if (!direct)
		return vportx_attach_port(self->ctl, "test.spare",
					  VPORTX_HOLD_OPEN, a);
	if (vportx_direct_pair("direct.a", "direct.b", &self->index, &nr,
			       &nr_b))
		return -ENODEV;
	if (vportx_claim_ioctl(self->ctl, VPORTX_IOC_CLAIM, self->index,
			       VPORTX_HOLD_OPEN))
		return -EBUSY;
	self->claimed = 1;
	return vportx_find_direct(self->ctl, self->index, nr, a);
}

/*
 * One round on @fd (port @id): the host sends @n bytes, the guest reads a
 * third, the host goes away, the guest writes @m bytes and reads the rest,
 * the host comes back and takes the @m bytes.
 */
static void host_away_round(struct __test_metadata *_metadata, int ctl,
			    const struct vportx_attach *a, int fd,
			    const char *id, uint64_t seed, size_t n, size_t m)
{
	char reply[RIG_REPLY_MAX], expect[32];
	struct vportx_info info;
	uint64_t hash;

	ASSERT_EQ(0, rig_ctl_ok("source %s %zu %" PRIu64, id, n, seed));
	ASSERT_EQ(0, recv_at(fd, seed, 0, n / 3));
	ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "wait %s 60000", id));
	snprintf(expect, sizeof(expect), "sent %zu", n);
	ASSERT_STREQ(expect, reply);
	/* Every byte is the guest's before the host goes. */
	ASSERT_EQ(0, rig_wait_unread_zero(id));
	ASSERT_EQ(0, rig_ctl_ok("disconnect %s", id));
	ASSERT_EQ(0, vportx_wait_attr(a, "host_connected", "0", WAIT_MS));

	ASSERT_EQ((ssize_t)m, rig_send(fd, seed + 1, m, 65536, &hash));
	ASSERT_EQ(0, vportx_info_of(ctl, a->minor, 0, &info));
	EXPECT_EQ(m, info.tx_queued);	/* nothing went to a host away */
	ASSERT_EQ(0, recv_at(fd, seed, n / 3, n - n / 3));

	ASSERT_EQ(0, rig_ctl_ok("connect %s", id));
	ASSERT_EQ(0, vportx_wait_attr(a, "host_connected", "1", WAIT_MS));
	ASSERT_EQ(0, rig_ctl_ok("sink %s %zu %" PRIu64, id, m, seed + 1));
	rig_sink_check(_metadata, id, m, hash);
}

TEST_F_TIMEOUT(soak, host_away, 1200)
{
	unsigned long long bytes = 0, seed = 0x50a4;
	struct vportx_attach a;
	const char *id;
	int direct, round, fd;
	size_t n, m;

	for (direct = 0; direct < 2; direct++) {
		id = direct ? "direct.a" : "test.spare";
		ASSERT_EQ(0, host_away_node(self, direct, &a));
		ASSERT_EQ(0, rig_ctl_ok("reset %s", id));
		fd = vportx_open_node_host(&a, WAIT_MS);
		ASSERT_LE(0, fd);
		for (round = 0; round < 50; round++) {
			seed = seed * 31 + round;
			n = 16384 + seed % 180000;
			m = 4096 + (seed >> 8) % 250000;
			host_away_round(_metadata, self->ctl, &a, fd, id,
					seed, n, m);
			bytes += n + m;
		}
		close(fd);
	}
	TH_LOG("host_away: 100 disconnects and reconnects mid-transfer, %llu bytes verified, 0 lost, 0 repeated",
	       bytes);
}

struct blocked {
	int fd, mode;		/* 0 read, 1 write, 2 splice into the node */
	int pipe[2];
	long ret;
	int err;
};

/* The call that blocks on the node until the port is unplugged. */
static void *blocked_call(void *arg)
{
	struct blocked *b = arg;
	static char buf[1 << 16];

	b->ret = 0;
	while (b->ret >= 0) {
		if (b->mode == 0)
			b->ret = read(b->fd, buf, sizeof(buf));
		else if (b->mode == 1)
			b->ret = write(b->fd, buf, sizeof(buf));
		else if (write(b->pipe[1], buf, sizeof(buf)) >= 0 ||
			 errno == EAGAIN)
			b->ret = splice(b->pipe[0], NULL, b->fd, NULL,
					sizeof(buf), 0);
		b->err = errno;
		if (b->mode == 0 && b->ret == 0)
			break;	/* end of file */
	}
	return NULL;
}

/* Unplug a port under a blocked call; the call must end with ENODEV. */
static void unplug_round(struct __test_metadata *_metadata, int ctl, int k)
{
	static const char *const modes[] = { "read", "write", "splice" };
	struct blocked b = { .mode = k % 3 };
	struct vportx_attach a;
	struct timespec until;
	char id[16], path[64];
	pthread_t t;

	snprintf(id, sizeof(id), "soak.%d", k % 2);
	/* vser4 is the soak's alone (Documentation/rig.rst). */
	ASSERT_EQ(0, rig_ctl_ok("hotplug %s %s 4 %d", id, id, 1 + k % 2));
	ASSERT_EQ(0, rig_wait_port(id, 1));
	/* A small queue, so that a write blocks soon: nobody reads. */
	ASSERT_EQ(0, vportx_attach_port_tx(ctl, id, VPORTX_HOLD_OPEN,
					   VPORTX_TX_LIMIT_MIN, 0, &a));
	b.fd = vportx_open_node_host(&a, WAIT_MS);
	ASSERT_LE(0, b.fd);
	/* The pipe's writing end must not block: it is refilled as it goes. */
	ASSERT_EQ(0, pipe(b.pipe));
	ASSERT_EQ(0, fcntl(b.pipe[1], F_SETFL, O_NONBLOCK));
	/* What comes before the unplug is read and checked. */
	ASSERT_EQ(0, rig_ctl_ok("source %s 65536 %d", id, k));
	ASSERT_EQ(0, recv_at(b.fd, k, 0, 65536));
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_call, &b));
	usleep(300000);
	ASSERT_EQ(0, rig_ctl_ok("unplug %s", id));
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	ASSERT_EQ(0, pthread_timedjoin_np(t, NULL, &until))
		TH_LOG("%s still blocked after the unplug", modes[b.mode]);
	EXPECT_EQ(-1, b.ret) TH_LOG("%s", modes[b.mode]);
	EXPECT_EQ(ENODEV, b.err) TH_LOG("%s: %s", modes[b.mode],
					strerror(b.err));
	close(b.fd);
	close(b.pipe[0]);
	close(b.pipe[1]);
	vportx_node_path(&a, path, sizeof(path));
	EXPECT_EQ(0, vportx_wait_path(path, 0));
}

TEST_F_TIMEOUT(soak, unplug_mid_io, 600)
{
	int k;

	for (k = 0; k < 20; k++)
		unplug_round(_metadata, self->ctl, k);
	TH_LOG("unplug_mid_io: 20 unplugs (7 under read, 7 under write, 6 under splice), %d bytes verified before them",
	       20 * 65536);
}

struct opener {
	volatile int stop;
	long opens, refused, bad;
};

/* Open and close the control device as fast as possible. */
static void *open_loop(void *arg)
{
	struct opener *o = arg;
	int fd;

	while (!o->stop) {
		fd = open(CTL_PATH, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			o->opens++;
			close(fd);
		} else if (errno == ENOENT || errno == ENXIO ||
			   errno == ENODEV) {
			o->refused++;
		} else {
			o->bad++;
		}
	}
	return NULL;
}

/* rmmod vportx: 0, or EWOULDBLOCK/EBUSY while an open holds it. */
static int remove_module(void)
{
	return syscall(SYS_delete_module, "vportx", O_NONBLOCK) ? errno : 0;
}

static int insert_module(void)
{
	char path[512];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/kmod/vportx.ko",
		 getenv("VPORTX_REPO") ?: "../..");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	ret = syscall(SYS_finit_module, fd, "dyndbg=+p", 0) ? errno : 0;
	close(fd);
	return ret;
}

/*
 * What holds vportx when rmmod keeps being refused: its reference count,
 * the processes with one of its files open, and the kernel stacks of
 * every task in uninterruptible sleep. Two fresh-clone CI runs hung here
 * until the 600 s timeout, and the module stayed in use to the end.
 */
static void show_holders(void)
{
	rig_sh("echo \"# refcnt: $(cat /sys/module/vportx/refcnt)\"; "
	       "ls -l /proc/[0-9]*/fd/ 2>/dev/null | grep -e vportx -e '^/proc' | "
	       "grep -B1 vportx | sed 's/^/# /'; "
	       "for t in /proc/[0-9]*/task/[0-9]*; do "
	       "grep -q '^State:.*D' $t/status 2>/dev/null || continue; "
	       "echo \"# $t $(cat $t/comm) in D:\"; sed 's/^/#   /' $t/stack; "
	       "done");
}

/* rmmod until it is not refused, for 60 s at most: 0 or its errno. */
static int remove_module_waiting(int *busy)
{
	unsigned long long deadline = now_ms() + 60000;
	int ret;

	do {
		ret = remove_module();
		*busy += ret == EWOULDBLOCK || ret == EBUSY;
	} while ((ret == EWOULDBLOCK || ret == EBUSY) && now_ms() < deadline);
	if (ret)
		show_holders();
	return ret;
}

TEST_F_TIMEOUT(soak, module_reload, 600)
{
	struct opener o = { 0 };
	int cycle, ret, removed = 0, busy = 0;
	pthread_t t;

	close(self->ctl);
	self->ctl = -1;
	ASSERT_EQ(0, pthread_create(&t, NULL, open_loop, &o));
	for (cycle = 0; cycle < 20; cycle++) {
		usleep(50000);
		ret = remove_module_waiting(&busy);
		if (ret) {
			/* The opener starving rmmod, or something else? */
			o.stop = 1;
			pthread_join(t, NULL);
			ret = remove_module();
			TH_LOG("with the opener stopped, rmmod says %s",
			       strerror(ret));
			/* The tests after this one need the module. */
			if (!ret)
				insert_module();
			ret = ret ?: EWOULDBLOCK;
		}
		ASSERT_EQ(0, ret) TH_LOG("rmmod refused for 60 s: %s, %ld opens",
					 strerror(ret), o.opens);
		removed++;
		usleep(50000);
		ASSERT_EQ(0, insert_module());
	}
	o.stop = 1;
	pthread_join(t, NULL);
	self->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctl);
	EXPECT_EQ(0, o.bad);
	TH_LOG("module_reload: %d rmmod+insmod, %d removals refused while open, %ld opens, %ld refused while unloaded, %ld wrong errno",
	       removed, busy, o.opens, o.refused, o.bad);
}

/*
 * Pages allocated and not freed since boot, into *@held: every pgalloc_*
 * of /proc/vmstat less pgfree, once the caches are dropped (negative: boot
 * frees more than it counts as allocated; only differences mean anything).
 * Unlike MemFree, this does not move with the pages the allocator keeps
 * on its per-CPU lists, which come and go by megabytes.
 */
static int pages_held(long long *held)
{
	long long v;
	char name[64];
	FILE *f;

	sync();
	f = fopen("/proc/sys/vm/drop_caches", "w");
	if (f) {
		fputs("3\n", f);
		fclose(f);
	}
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	*held = 0;
	while (fscanf(f, "%63s %lld", name, &v) == 2) {
		if (!strncmp(name, "pgalloc_", 8))
			*held += v;
		else if (!strcmp(name, "pgfree"))
			*held -= v;
	}
	fclose(f);
	return 0;
}

static long mem_available_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "MemAvailable: %ld kB", &kib);
	fclose(f);
	return kib;
}

/* The memory hog: take memory until 128 MiB are left, give it back. */
static void hog(void)
{
	size_t chunk = 16 << 20;
	void *maps[256];
	int n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;; usleep(500000)) {
		for (n = 0; n < 256 && mem_available_kib() > 128 * 1024; n++) {
			maps[n] = mmap(NULL, chunk, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (maps[n] == MAP_FAILED)
				break;
			memset(maps[n], 0xa5, chunk);
		}
		sleep(1);
		while (n-- > 0)
			munmap(maps[n], chunk);
	}
}

/*
 * Rounds of n bytes each way on all 16 ports at once, checked at both
 * ends, while a hog keeps memory short; the kernel holds no more after.
 */
TEST_F_TIMEOUT(soak, many_ports_under_pressure, 1800)
{
	const char *secs = getenv("VPORTX_SOAK_SECONDS");
	unsigned long long end, bytes = 0;
	struct vportx_attach a[MANY];
	long long before, after;
	int fds[MANY], i, round, status;
	size_t n;
	char id[16];
	pid_t pid;

	ASSERT_EQ(0, pages_held(&before));
	for (i = 0; i < MANY; i++) {
		vportx_many_id(i, id, sizeof(id));
		ASSERT_EQ(0, vportx_many_connect(i));
		ASSERT_EQ(0, vportx_attach_port(self->ctl, id,
						VPORTX_HOLD_OPEN, &a[i]));
		fds[i] = vportx_open_node_host(&a[i], WAIT_MS);
		ASSERT_LE(0, fds[i]) TH_LOG("%s", id);
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		hog();
		_exit(0);
	}
	end = now_ms() + 1000ULL * (secs ? atoi(secs) : 180);
	for (round = 1; now_ms() < end && _metadata->passed; round++) {
		n = 65536 + (round * 7919 % 8) * 65536;
		ASSERT_EQ(0, vportx_many_both_ways(fds, round * 100, n,
						   RIG_JOB_MS));
		bytes += 2 * MANY * n;
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	for (i = 0; i < MANY; i++) {
		close(fds[i]);
		vportx_many_id(i, id, sizeof(id));
		vportx_release_port(self->ctl, id);
		EXPECT_EQ(0, rig_ctl_ok("disconnect %s", id));
	}
	ASSERT_EQ(0, pages_held(&after));
	TH_LOG("many_ports_under_pressure: %d ports, %d rounds, %llu bytes verified, %lld KiB more held by the kernel than before",
	       MANY, round - 1, bytes, (after - before) * 4);
	/* Slab caches grow a little; a node's buffers are megabytes. */
	EXPECT_GT(1024, after - before);
}

TEST_HARNESS_MAIN
