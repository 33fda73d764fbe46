// SPDX-License-Identifier: GPL-2.0
/*
 * The control device and the data nodes under random input, while ports
 * come and go. Three threads for VPORTX_FUZZ_CALLS calls (default
 * 100,000), seeded by VPORTX_FUZZ_SEED (default: the time, printed so a
 * run can be repeated):
 *   ioctl: random commands (the five real ones, mutated encodings, any
 *     number) with random arguments (NULL, unmapped, read-only memory,
 *     structures of edge values and wrong fds, reserved bits set);
 *   data: random read, write, splice, vmsplice, poll, lseek, ioctl and
 *     fsync on the nodes of the fuzz ports, opened in random modes;
 *   ports: attach (both hold policies) and detach the fuzz ports, claim
 *     and release the direct device;
 * while the main thread hot-plugs and unplugs the fuzz ports (fz.*, on
 * the fourth device, vser3, which is theirs alone) under them. Every call
 * must succeed or fail with an errno of its set. Afterwards nothing of
 * the fuzz is left attached, and
 * test.spare still carries 1 MiB with a matching checksum. The rig then
 * checks the kernel log, the lifecycle counts and, on the debug kernel,
 * kmemleak.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/vportx.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "vportx_util.h"

#define CTL_PATH "/dev/" VPORTX_CONTROL_NAME
#define FZ_PORTS 4
/*
 * The fuzz ports: on a device of their own (vser3), so that what the churn
 * does to virtio_console's control queue there touches no other test.
 */
#define FZ_DEV 3
#define FZ_NR0 1
#define BUF_SIZE (256 * 1024)

struct fuzz {
	int ctl;
	int pool[8];		/* fds the ioctl thread passes to ATTACH */
	char *page;		/* a read-only page, then an unmapped one */
	unsigned int idx_direct, idx_fz;
	unsigned int idx_other;	/* a virtio device that is no console */
	atomic_int fz_fd[FZ_PORTS];	/* a fuzz port's stock node, or -1 */
	atomic_uint fz_present;		/* bit k: fz.k is plugged */
	atomic_long calls, target;
	atomic_long attached, claimed, data_ops, bad;
	atomic_bool stop;
	unsigned long long seed;
};

static unsigned long long rnd(unsigned long long *s)
{
	unsigned long long z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int pick(unsigned long long *s, unsigned int n)
{
	return rnd(s) % n;
}

/* A size or limit at an edge, or random. */
static __u32 edge_u32(unsigned long long *s)
{
	static const __u32 v[] = { 0, 1, 4095, 4096, 4097, 65536,
		VPORTX_TX_LIMIT_MIN, VPORTX_TX_LIMIT_MAX,
		VPORTX_TX_LIMIT_MAX + 1, VPORTX_RX_BUDGET_MAX, 0x7fffffff,
		0x80000000, 0xffffffff };

	return pick(s, 4) ? v[pick(s, sizeof(v) / sizeof(v[0]))] : rnd(s);
}

/* Count a call; a failure must have an errno of the set @ok (0-ended). */
static void account(struct fuzz *f, const char *what, long ret, int err,
		    const int *ok)
{
	atomic_fetch_add(&f->calls, 1);
	if (ret >= 0)
		return;
	for (; *ok; ok++)
		if (*ok == err)
			return;
	atomic_fetch_add(&f->bad, 1);
	fprintf(stderr, "# fuzz: %s: unexpected %s\n", what, strerror(err));
}

static bool done(struct fuzz *f)
{
	return atomic_load(&f->stop) ||
	       atomic_load(&f->calls) >= atomic_load(&f->target);
}

/* An fd for ATTACH: one of the pool, a fuzz port's, or not an fd. */
static __u32 fuzz_fd(struct fuzz *f, unsigned long long *s)
{
	switch (pick(s, 4)) {
	case 0:
		return atomic_load(&f->fz_fd[pick(s, FZ_PORTS)]);
	case 1:
		return pick(s, 2) ? 0xffffffff : 1000 + pick(s, 1000);
	default:
		return f->pool[pick(s, 8)];
	}
}

/*
 * A virtio index for CLAIM and RELEASE: the direct device, a device that
 * is no console (9p), or none at all; never another of the rig's consoles.
 * A claim and release of a device virtio_console drives makes it probe
 * the device again, and a port hot-plugged there during such churn once
 * never got its name (hardening.rst): the fuzz leaves the other consoles
 * alone.
 */
static __u32 fuzz_index(struct fuzz *f, unsigned long long *s)
{
	switch (pick(s, 4)) {
	case 0:
		return pick(s, 2) ? 0xffffffff : 64 + pick(s, 64);
	case 1:
		return f->idx_other;
	default:
		return f->idx_direct;
	}
}
static void fill_arg(struct fuzz *f, unsigned long long *s, __u32 *w)
{
	unsigned int i;

	for (i = 0; i < 16; i++)
		w[i] = pick(s, 3) ? 0 : edge_u32(s);
	w[0] = fuzz_index(f, s);
	if (pick(s, 2))
		w[1] = pick(s, 4) ? 0 : 1U << pick(s, 32);
	if (pick(s, 2))
		w[2] = pick(s, 3);
}

static unsigned long fuzz_cmd(unsigned long long *s)
{
	static const unsigned long real[] = { VPORTX_IOC_ATTACH,
		VPORTX_IOC_DETACH, VPORTX_IOC_INFO, VPORTX_IOC_CLAIM,
		VPORTX_IOC_RELEASE };

	switch (pick(s, 8)) {
	case 0:
		return _IOC(pick(s, 4), VPORTX_IOCTL_TYPE, pick(s, 16),
			    pick(s, 2) ? pick(s, 128) : edge_u32(s) & 0x3fff);
	case 1:
		return rnd(s);
	default:
		return real[pick(s, 5)];
	}
}

/* Where the argument points: a structure, NULL, read-only or unmapped. */
static void *fuzz_ptr(struct fuzz *f, unsigned long long *s, __u32 *w)
{
	switch (pick(s, 16)) {
	case 0:
		return NULL;
	case 1:
		return f->page;				/* read-only */
	case 2:
		return f->page + 4096;			/* unmapped */
	case 3:
		return f->page + 4096 - 4 * pick(s, 12);	/* straddles */
	default:
		return w;
	}
}

/*
 * ATTACH's EEXIST too, as the ports thread's: a port re-plugged while its
 * old node is still open or on its way out has the same node name
 * (include/uapi/linux/vportx.h). Seen once in 100000 calls, seed
 * 1796606982.
 */
static void *ioctl_thread(void *arg)
{
	static const int ok[] = { EINVAL, EFAULT, ENOTTY, EBADF, EBUSY,
		ENODEV, ENXIO, ENOENT, ERANGE, EOPNOTSUPP, EEXIST, 0 };
	struct fuzz *f = arg;
	unsigned long long s = f->seed;
	__u32 w[16];
	unsigned long cmd;
	char what[48];
	int ret, err;

	while (!done(f)) {
		cmd = fuzz_cmd(&s);
		fill_arg(f, &s, w);
		/* Never the rig's results port, fds 1 to 3. */
		if ((unsigned int)cmd == VPORTX_IOC_ATTACH)
			w[0] = fuzz_fd(f, &s);
		ret = ioctl(f->ctl, cmd, fuzz_ptr(f, &s, w));
		err = errno;
		snprintf(what, sizeof(what), "ioctl %#lx", cmd);
		account(f, what, ret, err, ok);
		if (!ret && cmd == VPORTX_IOC_ATTACH)
			atomic_fetch_add(&f->attached, 1);
		if (!ret && cmd == VPORTX_IOC_CLAIM)
			atomic_fetch_add(&f->claimed, 1);
	}
	return NULL;
}

/*
 * Open the node of a fuzz port in a random mode: what open() returned, or
 * -2 when no fuzz port has a node.
 */
static int open_fz_node(struct fuzz *f, unsigned long long *s)
{
	static const int modes[] = { O_RDWR, O_RDONLY, O_WRONLY };
	struct vportx_info info;
	__u32 minor = pick(s, 8);
	char path[64];

	if (vportx_info_of(f->ctl, minor, VPORTX_INFO_F_NEXT, &info))
		return -2;
	if (info.port_dev != f->idx_fz)
		return -2;
	snprintf(path, sizeof(path), "/dev/vportx%up%u", info.port_dev,
		 info.port_nr);
	return open(path, modes[pick(s, 3)] | O_NONBLOCK | O_CLOEXEC);
}

static long data_op(int fd, int p[2], char *buf, unsigned long long *s,
		    const char **what)
{
	size_t len = pick(s, 2) ? pick(s, 8192) : pick(s, BUF_SIZE);
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
	struct iovec iov = { .iov_base = buf, .iov_len = len % 65536 };

	switch (pick(s, 9)) {
	case 0:
		*what = "read";
		return read(fd, buf, len);
	case 1:
		*what = "write";
		return write(fd, buf, len % 65536);
	case 2:
		*what = "splice out";
		return splice(fd, NULL, p[1], NULL, len, SPLICE_F_NONBLOCK);
	case 3:
		*what = "splice in";
		if (vmsplice(p[1], &iov, 1, SPLICE_F_NONBLOCK) < 0)
			return 0;
		return splice(p[0], NULL, fd, NULL, len, SPLICE_F_NONBLOCK);
	case 4:
		*what = "poll";
		return poll(&pfd, 1, 0);
	case 5:
		*what = "lseek";
		return lseek(fd, pick(s, 4096), SEEK_SET) < 0 ? -1 : 0;
	case 6:
		*what = "node ioctl";
		return ioctl(fd, rnd(s), buf);
	case 7:
		*what = "fsync";
		return pick(s, 8) ? 0 : fsync(fd);
	default:
		*what = "fasync";
		return fcntl(fd, F_SETFL, O_NONBLOCK | (pick(s, 2) ? O_ASYNC : 0));
	}
}

static void drain_pipe(int p[2], char *buf)
{
	while (read(p[0], buf, BUF_SIZE) > 0)
		;
}

static void *data_thread(void *arg)
{
	static const int ok[] = { EAGAIN, ENODEV, ENXIO, ENOENT, EPIPE, EBADF,
		EINVAL, ESPIPE, ENOTTY, EBUSY, 0 };
	struct fuzz *f = arg;
	unsigned long long s = f->seed ^ 0xda7a;
	const char *what;
	char *buf = malloc(BUF_SIZE);
	int p[2], fd, i, err;
	long ret;

	if (!buf || pipe2(p, O_NONBLOCK | O_CLOEXEC))
		return NULL;
	memset(buf, 0x5a, BUF_SIZE);
	while (!done(f)) {
		fd = open_fz_node(f, &s);
		if (fd < 0) {
			account(f, "open", fd == -2 ? 0 : -1, errno, ok);
			usleep(100);
			continue;
		}
		for (i = pick(&s, 64); i >= 0 && !done(f); i--) {
			ret = data_op(fd, p, buf, &s, &what);
			err = errno;
			account(f, what, ret, err, ok);
			atomic_fetch_add(&f->data_ops, 1);
			drain_pipe(p, buf);
		}
		close(fd);
	}
	close(p[0]);
	close(p[1]);
	free(buf);
	return NULL;
}

/* Attach or detach a fuzz port, claim or release the direct device. */
static void *ports_thread(void *arg)
{
	static const int ok[] = { EBUSY, ENODEV, ENXIO, ENOENT, EINVAL, EEXIST,
		0 };
	struct fuzz *f = arg;
	unsigned long long s = f->seed ^ 0x9047;
	struct vportx_attach a;
	char name[16];
	int k, fd, ret;

	while (!done(f)) {
		k = pick(&s, FZ_PORTS);
		snprintf(name, sizeof(name), "fz.%d", k);
		switch (pick(&s, 4)) {
		case 0:
			ret = vportx_claim_ioctl(f->ctl, pick(&s, 2) ?
						 VPORTX_IOC_CLAIM :
						 VPORTX_IOC_RELEASE,
						 f->idx_direct, pick(&s, 2));
			break;
		case 1:
			vportx_release_port(f->ctl, name);
			ret = 0;
			break;
		default:
			fd = (atomic_load(&f->fz_present) & (1U << k)) ?
			     rig_port_open(name, O_RDWR | O_CLOEXEC) : -ENODEV;
			atomic_store(&f->fz_fd[k], fd);
			ret = fd < 0 ? fd :
			      vportx_attach_fd(f->ctl, fd, pick(&s, 2), &a);
			atomic_store(&f->fz_fd[k], -1);
			if (fd >= 0)
				close(fd);
			if (!ret)
				atomic_fetch_add(&f->attached, 1);
		}
		account(f, "ports", ret, -ret, ok);
		usleep(pick(&s, 2000));
	}
	return NULL;
}

/*
 * Nodes on a fuzz port or the direct device, each asked to DETACH if
 * @detach (a closed hold=open stacked node outlives its unplugged port
 * until then). Those that are going may take a while (a released
 * device's in the background): up to 10 s.
 */
static int fuzz_nodes(struct fuzz *f, bool detach)
{
	struct vportx_info info;
	__u32 minor;
	int n, tries;

	for (tries = 0; tries < 100; tries++) {
		n = 0;
		for (minor = 0; !vportx_info_of(f->ctl, minor,
						VPORTX_INFO_F_NEXT, &info);
		     minor = info.minor + 1) {
			if (info.port_dev != f->idx_fz &&
			    info.port_dev != f->idx_direct)
				continue;
			if (detach)
				vportx_detach_minor(f->ctl, info.minor);
			else
				fprintf(stderr, "# fuzz: left: vportx%up%u\n",
					info.port_dev, info.port_nr);
			n++;
		}
		if (!n || detach)
			break;
		usleep(100000);
	}
	return n;
}

FIXTURE(fuzz) {
	struct fuzz f;
	unsigned int plugs, unplugs;
};

static unsigned int device_of(const char *name)
{
	unsigned int dev = ~0U, nr;

	rig_wait_port(name, 1);
	vportx_stock_numbers(name, &dev, &nr);
	return dev;
}

/* The index of a virtio device that is no console (the rig's 9p root). */
static unsigned int other_device(void)
{
	char path[64], id[16];
	unsigned int i;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path),
			 "/sys/bus/virtio/devices/virtio%u/device", i);
		if (!rig_read_file(path, id, sizeof(id)) &&
		    strcmp(id, "0x0003"))
			return i;
	}
	return ~0U;
}

static void open_pool(struct fuzz *f)
{
	int p[2], sv[2];

	f->pool[0] = f->ctl;
	f->pool[1] = open("/dev/null", O_RDWR | O_CLOEXEC);
	f->pool[2] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	f->pool[3] = pipe2(p, O_CLOEXEC) ? -1 : p[0];
	f->pool[4] = f->pool[3] < 0 ? -1 : p[1];
	f->pool[5] = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ?
		     -1 : sv[0];
	f->pool[6] = f->pool[5] < 0 ? -1 : sv[1];
	f->pool[7] = open(CTL_PATH, O_RDONLY | O_CLOEXEC);
}

FIXTURE_SETUP(fuzz)
{
	const char *calls = getenv("VPORTX_FUZZ_CALLS");
	const char *seed = getenv("VPORTX_FUZZ_SEED");
	struct fuzz *f = &self->f;
	int k;

	memset(self, 0, sizeof(*self));
	f->ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, f->ctl);
	open_pool(f);
	f->page = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	ASSERT_NE(MAP_FAILED, f->page);
	ASSERT_EQ(0, munmap(f->page + 4096, 4096));
	f->idx_direct = device_of("direct.a");
	ASSERT_NE(~0U, f->idx_direct);
	f->idx_other = other_device();
	ASSERT_NE(~0U, f->idx_other);
	for (k = 0; k < FZ_PORTS; k++)
		atomic_store(&f->fz_fd[k], -1);
	atomic_store(&f->target, calls ? atol(calls) : 100000);
	f->seed = seed ? strtoull(seed, NULL, 0) : (unsigned long long)time(NULL);
	TH_LOG("seed %llu (VPORTX_FUZZ_SEED), %ld calls", f->seed,
	       atomic_load(&f->target));
}

/* Whatever the fuzz left: the claim, and nodes on the fuzz ports. */
FIXTURE_TEARDOWN(fuzz)
{
	struct fuzz *f = &self->f;
	char name[16];
	int k;

	vportx_claim_ioctl(f->ctl, VPORTX_IOC_RELEASE, f->idx_direct, 0);
	fuzz_nodes(f, true);
	for (k = 0; k < FZ_PORTS; k++) {
		snprintf(name, sizeof(name), "fz.%d", k);
		if (atomic_load(&f->fz_present) & (1U << k))
			rig_ctl_ok("unplug %s", name);
	}
	for (k = 0; k < 8; k++)
		if (f->pool[k] > 0 && f->pool[k] != f->ctl)
			close(f->pool[k]);
	close(f->ctl);
}

/* Plug or unplug fuzz port @k: 0 or -errno. */
static int toggle_port(struct fuzz *f, int k, unsigned int *plugs,
		       unsigned int *unplugs)
{
	unsigned int bit = 1U << k;
	char name[16];
	int ret;

	snprintf(name, sizeof(name), "fz.%d", k);
	if (atomic_load(&f->fz_present) & bit) {
		atomic_fetch_and(&f->fz_present, ~bit);
		ret = rig_ctl_ok("unplug %s", name);
		if (!ret)
			ret = rig_wait_port(name, 0);
		*unplugs += !ret;
		return ret;
	}
	ret = rig_ctl_ok("hotplug %s %s %u %u", name, name, FZ_DEV, FZ_NR0 + k);
	if (!ret)
		ret = rig_wait_port(name, 1);
	if (!ret)
		atomic_fetch_or(&f->fz_present, bit);
	*plugs += !ret;
	return ret;
}

TEST_F_TIMEOUT(fuzz, ioctls_and_data_while_ports_come_and_go, 1800)
{
	struct fuzz *f = &self->f;
	unsigned long long s = f->seed ^ 0x4e;
	struct vportx_attach a;
	pthread_t t[3];
	char reply[RIG_REPLY_MAX];
	unsigned long long n;
	uint64_t hash, sent;
	long long bad;
	int fd, k, ret;

	for (k = 0; k < FZ_PORTS; k++)
		ASSERT_EQ(0, toggle_port(f, k, &self->plugs, &self->unplugs));
	f->idx_fz = device_of("fz.0");
	ASSERT_NE(~0U, f->idx_fz);
	ASSERT_EQ(0, pthread_create(&t[0], NULL, ioctl_thread, f));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, data_thread, f));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, ports_thread, f));
	while (!done(f)) {
		usleep(20000 + pick(&s, 200000));
		ret = toggle_port(f, pick(&s, FZ_PORTS), &self->plugs,
				  &self->unplugs);
		EXPECT_EQ(0, ret);
		if (ret)
			atomic_store(&f->stop, true);
	}
	/*
	 * An fsync() waits for a host that does not read (like tcdrain()):
	 * the unplug ends it, with ENODEV.
	 */
	for (k = 0; k < FZ_PORTS; k++)
		if (atomic_load(&f->fz_present) & (1U << k))
			EXPECT_EQ(0, toggle_port(f, k, &self->plugs,
						 &self->unplugs));
	for (k = 0; k < 3; k++)
		pthread_join(t[k], NULL);
	TH_LOG("fuzz: %ld calls (%ld on data nodes), %ld attaches, %ld claims, %u hot-plugs, %u unplugs, %ld unexpected errno",
	       atomic_load(&f->calls), atomic_load(&f->data_ops),
	       atomic_load(&f->attached), atomic_load(&f->claimed),
	       self->plugs, self->unplugs, atomic_load(&f->bad));
	EXPECT_EQ(0, atomic_load(&f->bad));
	EXPECT_LE(atomic_load(&f->target), atomic_load(&f->calls));

	/* Tidy: then nothing of the fuzz is left. */
	vportx_claim_ioctl(f->ctl, VPORTX_IOC_RELEASE, f->idx_direct, 0);
	fuzz_nodes(f, true);
	EXPECT_EQ(0, fuzz_nodes(f, false));

	/* And the module still carries data, checksummed. */
	ASSERT_EQ(0, vportx_attach_port(f->ctl, "test.spare",
					VPORTX_HOLD_OPEN, &a));
	fd = vportx_open_node_host(&a, 10000);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rig_ctl_ok("sink test.spare %d 7", 1 << 20));
	ASSERT_EQ(1 << 20, rig_send(fd, 7, 1 << 20, 65536, &sent));
	ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "wait test.spare 60000"));
	ASSERT_EQ(0, rig_parse_sunk(reply, &n, &hash, &bad));
	EXPECT_EQ(1ULL << 20, n);
	EXPECT_EQ(sent, hash);
	EXPECT_EQ(-1, bad);
	close(fd);
	EXPECT_EQ(0, vportx_detach_minor(f->ctl, a.minor));
}

TEST_HARNESS_MAIN
