// SPDX-License-Identifier: GPL-2.0
/*
 * `make bench`, inside the guest: the same workloads on the stock node
 * /dev/vportNpM and on the vportx node /dev/vportxNpM of the same port
 * (stacked), and on the direct node of a port of the device vportx claims
 * for the run (direct.a, direct.b on the rig's third virtio-serial device,
 * whose host side is the same kind of socket), runs alternated
 * stock/vportx/direct, every transfer checked end to end by the host peer
 * (count, pattern and FNV-1a 64 checksum). Ceilings of this guest come
 * first. Raw results go to stdout, one line each:
 *
 *	result WORKLOAD NODE RUN METRIC VALUE UNIT
 *
 * NODE is stock, vportx, direct or - (ceilings); VALUE is a number, or an errno
 * name for a path that is not there. Any failed check prints a line
 * starting with FAIL and exits 1: no number is ever printed for a broken
 * transfer. The last line is `bench-done`. selftests/bench/report turns
 * the lines into a table; Documentation/performance.rst says what each
 * workload measures.
 *
 * Each workload runs a warm-up round first (checked, not reported), then
 * cfg.runs runs per node, the nodes alternated.
 *
 * Options: -f LIST, comma-separated: `quick` (small sizes, 2 runs each,
 * for trying the rig out) and/or workload names or parts of them (only
 * those run; the ceilings always do). -r RUNS overrides the runs per node.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/vportx.h>

#include "guest.h"
#include "pattern.h"
#include "vportx_util.h"

#define CTL_PATH "/dev/" VPORTX_CONTROL_NAME
#define MAIN_PORT "test.unix"
#define FLOOD_PORT "test.spare"
/* The direct column's ports: a device of their own, claimed. */
#define DIRECT_PORT "direct.a"
#define DIRECT_FLOOD "direct.b"
/* The peer's vsock ports: streams to the guest's AF_VSOCK ports 5000, 5001. */
#define VSOCK_PORT "vsock.a"
#define VSOCK_FLOOD "vsock.b"
#define VSOCK_NR 5000
#define MANY 16
#define HOST_WAIT_MS 10000
#define JOB_MS 600000		/* how long the peer may take for one job */
#define MIB (1UL << 20)
#define GIB (1ULL << 30)

/* Seeds of the pattern streams: one per kind of transfer. */
#define SEED_BULK 7000
#define SEED_MSG 7100		/* + message size */
#define SEED_PING 7200
#define SEED_FLOOD 7300

/*
 * The nodes compared, and what users pick instead: an AF_VSOCK stream to
 * the host (virtio-vsock), when the rig has one (VPORTX_VSOCK=1).
 */
enum node_kind { STOCK, VPORTX, DIRECT, VSOCK, NKINDS };
static const char *const kind_name[NKINDS] = { "stock", "vportx", "direct",
					       "vsock" };

/* Sizes; `quick` divides them. */
static struct {
	int runs;		/* runs per node and workload */
	size_t msgs;		/* messages per run */
	size_t bulk;		/* bytes per bulk run */
	size_t null_writes;	/* writes per /dev/null ceiling run */
	size_t pings;		/* round trips per ping-pong run */
	size_t flood_seg;	/* bytes per flood sink */
	int mem_rounds;		/* attach/detach rounds of the memory workload */
} cfg = {
	.runs = 7,
	.msgs = 50000,
	.bulk = 64 * MIB,
	.null_writes = 200000,
	.pings = 5000,
	.flood_seg = 16 * MIB,
	.mem_rounds = 5,
};

static const size_t msg_sizes[] = { 64, 256, 1024 };
#define NMSG (sizeof(msg_sizes) / sizeof(msg_sizes[0]))

/*
 * The host peer's jobs: fast (the default) receives and sends 1 MiB a
 * call and checks against a cached pattern, so it is not the wall of what
 * it measures; `checked` in the filter gives the older sink and source,
 * which generate and hash every byte in 64 KiB pieces.
 */
static int checked_host;
#define SINK_CMD (checked_host ? "sink" : "fastsink")
#define SOURCE_CMD (checked_host ? "source" : "fastsource")

static char filters[16][32];
static int nfilters;

/* The control device, and the ports as attached to vportx. */
static int ctl = -1;
static struct vportx_attach main_a, flood_a;
static int main_attached, flood_attached;
static struct vportx_attach direct_a, direct_flood_a;
static long long direct_index = -1;	/* the claimed device, or -1 */
static struct vportx_attach many_a[MANY];
static int many_attached[MANY];
static pid_t main_pid;
/* The two vsock streams, connected once: each run uses a dup(). */
static int vsock_fd[2] = { -1, -1 };

/* Pre-generated pattern data and its checksums. */
static char *bulk_buf;		/* cfg.bulk bytes of SEED_BULK */
static uint64_t bulk_hash;
static char *recv_buf;		/* host->guest lands here */
static char *msg_buf[NMSG];	/* cfg.msgs * size bytes of SEED_MSG + size */
static uint64_t msg_hash[NMSG];
static char *ping_buf;		/* cfg.pings * 64 bytes of SEED_PING */
static char *flood_buf;		/* cfg.flood_seg bytes of SEED_FLOOD */
static uint64_t flood_hash;
static const char *shm_file = "/dev/shm/vportx-bench.dat";
static double *rtt;		/* round trips of one ping-pong run, in us */

static void cleanup(void);

/* Where a workload runs for node @k: its port and its vportx node. */
static const char *main_port(enum node_kind k)
{
	if (k == VSOCK)
		return VSOCK_PORT;
	return k == DIRECT ? DIRECT_PORT : MAIN_PORT;
}

static const char *flood_port(enum node_kind k)
{
	if (k == VSOCK)
		return VSOCK_FLOOD;
	return k == DIRECT ? DIRECT_FLOOD : FLOOD_PORT;
}

static struct vportx_attach *main_node(enum node_kind k)
{
	return k == DIRECT ? &direct_a : &main_a;
}

static struct vportx_attach *flood_node(enum node_kind k)
{
	return k == DIRECT ? &direct_flood_a : &flood_a;
}

static void __attribute__((format(printf, 1, 2), noreturn))
fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("FAIL %s\n", msg);
	fflush(stdout);
	if (getpid() == main_pid)
		cleanup();
	_exit(1);
}

static void __attribute__((format(printf, 1, 2))) info(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void result(const char *wl, const char *node, int run,
		   const char *metric, double value, const char *unit)
{
	if (!run)
		return;		/* the warm-up run */
	printf("result %s %s %d %s %.6g %s\n", wl, node, run, metric, value,
	       unit);
	fflush(stdout);
}

static void result_str(const char *wl, const char *node, const char *metric,
		       const char *value)
{
	printf("result %s %s 0 %s %s -\n", wl, node, metric, value);
	fflush(stdout);
}

static int wanted(const char *wl)
{
	int i;

	if (!nfilters)
		return 1;
	for (i = 0; i < nfilters; i++)
		if (strstr(wl, filters[i]))
			return 1;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		fail("out of memory (%zu bytes)", n);
	/* Touch every page now, not in a timed loop. */
	memset(p, 0, n);
	return p;
}

static char *pattern_alloc(size_t n, uint64_t seed, uint64_t *hash)
{
	char *p = xmalloc(n);

	pattern_fill(p, n, seed, 0);
	if (hash)
		*hash = fnv64_update(FNV64_INIT, p, n);
	return p;
}

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "E?";
}

/* ---- CPU accounting ---- */

#define MAX_CPUS 8

/* The host's CPU time for this guest (the peer's hostcpu), ns. */
struct host_mark {
	int ok;
	unsigned long long peer, main, other;
	unsigned long long vcpu[MAX_CPUS];
};

struct cpu_mark {
	double t;
	struct host_mark host;
	double proc;			/* this process: utime + stime, s */
	unsigned long long busy;	/* /proc/stat: every CPU, ticks */
	unsigned long long cpu[MAX_CPUS];	/* each CPU's, ticks */
};

/* Busy ticks of the "cpu" line (all) and of cpu0, cpu1... of /proc/stat. */
static void stat_busy(struct cpu_mark *m)
{
	unsigned long long v[8];
	char line[512], name[16];
	FILE *f = fopen("/proc/stat", "r");
	int n, i = -1;

	if (!f)
		fail("/proc/stat: %s", strerror(errno));
	memset(m->cpu, 0, sizeof(m->cpu));
	while (fgets(line, sizeof(line), f) && !strncmp(line, "cpu", 3)) {
		n = sscanf(line, "%15s %llu %llu %llu %llu %llu %llu %llu %llu",
			   name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			   &v[6], &v[7]);
		if (n != 9)
			fail("/proc/stat: unexpected format");
		/* user nice system [idle iowait] irq softirq steal */
		v[0] += v[1] + v[2] + v[5] + v[6] + v[7];
		if (i < 0)
			m->busy = v[0];
		else if (i < MAX_CPUS)
			m->cpu[i] = v[0];
		i++;
	}
	fclose(f);
	if (i < 1)
		fail("/proc/stat: no cpu lines");
}

static void host_mark(struct host_mark *h)
{
	char reply[RIG_REPLY_MAX], *v, *end;
	int i;

	memset(h, 0, sizeof(*h));
	if (rig_ctl(reply, sizeof(reply), "hostcpu") ||
	    sscanf(reply, "peer=%llu main=%llu other=%llu", &h->peer,
		   &h->main, &h->other) != 3)
		return;
	v = strstr(reply, " vcpu=");
	for (i = 0, v = v ? v + 6 : NULL; v && i < MAX_CPUS; i++, v = end + 1) {
		h->vcpu[i] = strtoull(v, &end, 10);
		if (end == v || *end != ',')
			break;
	}
	h->ok = 1;
}

static void cpu_mark(struct cpu_mark *m)
{
	struct rusage ru;

	host_mark(&m->host);
	getrusage(RUSAGE_SELF, &ru);
	m->proc = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		  ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	stat_busy(m);
	m->t = now();
}


/* Share of the guest's CPUs busy between @a and @b, in percent. */
static double busy_pct(const struct cpu_mark *a, const struct cpu_mark *b)
{
	return 100.0 * (b->busy - a->busy) / sysconf(_SC_CLK_TCK) /
	       (b->t - a->t) / sysconf(_SC_NPROCESSORS_ONLN);
}

/* The busiest vCPU between @a and @b, in percent of that one vCPU. */
static double busy_max_pct(const struct cpu_mark *a, const struct cpu_mark *b)
{
	unsigned long long max = 0;
	int i;

	for (i = 0; i < MAX_CPUS; i++)
		if (b->cpu[i] - a->cpu[i] > max)
			max = b->cpu[i] - a->cpu[i];
	return 100.0 * max / sysconf(_SC_CLK_TCK) / (b->t - a->t);
}

/*
 * The host's side of the run between @a and @b, each in percent of one
 * host CPU: the peer, QEMU's main loop, its busiest vCPU thread (under TCG
 * also the device emulation a notification runs there) and its other
 * threads. With the guest's own figures they say which side was the wall.
 */
static void host_results(const char *wl, const char *node, int run,
			 const struct cpu_mark *a, const struct cpu_mark *b)
{
	const struct host_mark *x = &a->host, *y = &b->host;
	double ns = (b->t - a->t) * 1e9 / 100;
	unsigned long long max = 0, all = 0;
	int i;

	if (!x->ok || !y->ok)
		return;
	for (i = 0; i < MAX_CPUS; i++) {
		all += y->vcpu[i] - x->vcpu[i];
		if (y->vcpu[i] - x->vcpu[i] > max)
			max = y->vcpu[i] - x->vcpu[i];
	}
	all += y->peer - x->peer + y->main - x->main + y->other - x->other;
	result(wl, node, run, "host_peer", (y->peer - x->peer) / ns, "%");
	result(wl, node, run, "host_main", (y->main - x->main) / ns, "%");
	result(wl, node, run, "host_vcpu_max", max / ns, "%");
	result(wl, node, run, "host_other", (y->other - x->other) / ns, "%");
	/* All of it: the host has sysconf(_SC_NPROCESSORS_ONLN) x 100 %. */
	result(wl, node, run, "host_all", all / ns, "%");
}

/* The busy figures of the run between @a and @b, guest and host. */
static void busy_results(const char *wl, const char *node, int run,
			 const struct cpu_mark *a, const struct cpu_mark *b)
{
	result(wl, node, run, "guest_busy", busy_pct(a, b), "%");
	result(wl, node, run, "vcpu_max_busy", busy_max_pct(a, b), "%");
	host_results(wl, node, run, a, b);
}

/* CPU seconds per GiB moved between @a and @b: the process and the guest. */
static void cpu_results(const char *wl, const char *node, int run,
			const struct cpu_mark *a, const struct cpu_mark *b,
			size_t bytes)
{
	double gib = (double)bytes / GIB;
	double hz = sysconf(_SC_CLK_TCK);

	result(wl, node, run, "cpu_proc", (b->proc - a->proc) / gib, "s/GiB");
	result(wl, node, run, "cpu_guest", (b->busy - a->busy) / hz / gib,
	       "s/GiB");
}

/* The vportx node's TX counters, to tell coalescing and stalls. */
struct tx_mark {
	long long pushes, bytes, stalls;
};

static void tx_mark_of(enum node_kind k, const struct vportx_attach *a,
		       struct tx_mark *m)
{
	if (k == STOCK || k == VSOCK)
		return;
	m->pushes = vportx_node_counter(a, "tx_pushes");
	m->bytes = vportx_node_counter(a, "tx_bytes");
	m->stalls = vportx_node_counter(a, "stalls");
	if (m->pushes < 0 || m->bytes < 0 || m->stalls < 0)
		fail("vportx sysfs counters unreadable");
}

static void tx_mark(enum node_kind k, struct tx_mark *m)
{
	tx_mark_of(k, main_node(k), m);
}

static void tx_results_as(const char *wl, const char *prefix,
			  enum node_kind k, int run, const struct tx_mark *a,
			  const struct tx_mark *b)
{
	long long pushes = b->pushes - a->pushes;
	char name[64];

	if (k != VPORTX && k != DIRECT)
		return;
	snprintf(name, sizeof(name), "%spush_size", prefix);
	if (pushes > 0)
		result(wl, kind_name[k], run, name,
		       (double)(b->bytes - a->bytes) / pushes / 1024,
		       "KiB/push");
	snprintf(name, sizeof(name), "%sstalls", prefix);
	result(wl, kind_name[k], run, name, b->stalls - a->stalls, "writes");
}

static void tx_results(const char *wl, enum node_kind k, int run,
		       const struct tx_mark *a, const struct tx_mark *b)
{
	tx_results_as(wl, "", k, run, a, b);
}

/* ---- the host peer ---- */

static void ctl_ok(const char *what, int ret)
{
	if (ret)
		fail("peer refused: %s", what);
}

#define CTL(...) do {							\
		char _req[RIG_REPLY_MAX];				\
		snprintf(_req, sizeof(_req), __VA_ARGS__);		\
		ctl_ok(_req, rig_ctl_ok("%s", _req));			\
	} while (0)

/* The peer's verdict on a sink of @n bytes whose checksum is @hash. */
static void sink_check(const char *id, size_t n, uint64_t hash)
{
	char reply[RIG_REPLY_MAX];
	unsigned long long got;
	uint64_t h;
	long long bad;
	int ret = rig_ctl(reply, sizeof(reply), "wait %s %d", id, JOB_MS);

	if (ret)
		fail("wait %s: %s", id, ret < 0 ? strerror(-ret) : reply);
	if (rig_parse_sunk(reply, &got, &h, &bad))
		fail("wait %s: unexpected reply: %s", id, reply);
	if (got != n || bad != -1 || h != hash)
		fail("%s: host received %llu of %zu bytes, first bad byte %lld, "
		     "fnv64 %016" PRIx64 " (sent %016" PRIx64 ")", id, got, n,
		     bad, h, hash);
}

/* The peer's verdict on a source of @n bytes. */
static void source_check(const char *id, size_t n)
{
	char reply[RIG_REPLY_MAX], expect[64];
	int ret = rig_ctl(reply, sizeof(reply), "wait %s %d", id, JOB_MS);

	snprintf(expect, sizeof(expect), "sent %zu", n);
	if (ret || strcmp(reply, expect))
		fail("wait %s: %s (expected %s)", id,
		     ret < 0 ? strerror(-ret) : reply, expect);
}

/* ---- nodes ---- */

static int open_node(enum node_kind k, const char *id,
		     const struct vportx_attach *a)
{
	int fd;

	if (k == VSOCK)
		fd = dup(vsock_fd[strcmp(id, VSOCK_PORT) != 0]);
	else if (k == STOCK)
		fd = rig_port_open_host(id, O_RDWR, HOST_WAIT_MS);
	else
		fd = vportx_open_node_host(a, HOST_WAIT_MS);
	if (fd < 0)
		fail("open %s node of %s: %s", kind_name[k], id,
		     strerror(-fd));
	return fd;
}

static void attach(const char *id, struct vportx_attach *a, int *attached)
{
	int ret = vportx_attach_port(ctl, id, VPORTX_HOLD_OPEN, a);

	if (ret)
		fail("attach %s: %s", id, strerror(-ret));
	*attached = 1;
}

static void detach(const char *id, struct vportx_attach *a, int *attached)
{
	int ret;

	if (!*attached)
		return;
	ret = vportx_detach_minor(ctl, a->minor);
	*attached = 0;
	if (ret)
		fail("detach %s: %s", id, strerror(-ret));
}

/*
 * The direct column: claim the device of DIRECT_PORT and DIRECT_FLOOD
 * (hold=open, the module's defaults) and find their nodes.
 */
static void claim_direct(void)
{
	unsigned int index, nr, flood_index, flood_nr;
	int ret;

	if (vportx_stock_numbers(DIRECT_PORT, &index, &nr) ||
	    vportx_stock_numbers(DIRECT_FLOOD, &flood_index, &flood_nr) ||
	    index != flood_index)
		fail("no %s and %s on one device: no direct column",
		     DIRECT_PORT, DIRECT_FLOOD);
	ret = vportx_claim_ioctl(ctl, VPORTX_IOC_CLAIM, index,
				 VPORTX_HOLD_OPEN);
	if (ret)
		fail("claim virtio%u: %s", index, strerror(-ret));
	direct_index = index;
	ret = vportx_find_direct(ctl, index, nr, &direct_a);
	if (!ret)
		ret = vportx_find_direct(ctl, index, flood_nr, &direct_flood_a);
	if (ret)
		fail("direct nodes of virtio%u: %s", index, strerror(-ret));
}

static void release_direct(void)
{
	if (direct_index >= 0)
		vportx_claim_ioctl(ctl, VPORTX_IOC_RELEASE, direct_index, 0);
	direct_index = -1;
}

static void cleanup(void)
{
	char id[16];
	int i;

	/* fail() may come back here through detach: do each once. */
	if (main_attached)
		vportx_detach_minor(ctl, main_a.minor);
	if (flood_attached)
		vportx_detach_minor(ctl, flood_a.minor);
	main_attached = flood_attached = 0;
	release_direct();
	for (i = 0; i < MANY; i++) {
		snprintf(id, sizeof(id), "many.%02d", i);
		if (many_attached[i])
			vportx_release_port(ctl, id);
		many_attached[i] = 0;
	}
	unlink(shm_file);
}

static void write_all(int fd, const char *buf, size_t len, size_t chunk,
		      const char *what)
{
	while (len) {
		ssize_t n = write(fd, buf, len < chunk ? len : chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("%s: write: %s", what, n ? strerror(errno) : "0");
		buf += n;
		len -= n;
	}
}

static void read_exact(int fd, char *buf, size_t len, size_t chunk,
		       const char *what)
{
	while (len) {
		ssize_t n = read(fd, buf, len < chunk ? len : chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("%s: read: %s", what, n ? strerror(errno) : "EOF");
		buf += n;
		len -= n;
	}
}

/* fsync() on vportx: every byte is the port's. The stock node has none. */
/* A vsock stream has no fsync(): its rates are to the last write(). */
static void drain(enum node_kind k, int fd, const char *what)
{
	if ((k == VPORTX || k == DIRECT) && fsync(fd))
		fail("%s: fsync: %s", what, strerror(errno));
}

static void reset_ports(void)
{
	CTL("reset %s", MAIN_PORT);
	CTL("reset %s", FLOOD_PORT);
	if (direct_index < 0)
		return;
	CTL("reset %s", DIRECT_PORT);
	CTL("reset %s", DIRECT_FLOOD);
	if (vsock_fd[0] < 0)
		return;
	CTL("reset %s", VSOCK_PORT);
	CTL("reset %s", VSOCK_FLOOD);
}

/*
 * The vsock column: listen on AF_VSOCK ports VSOCK_NR and the next, have
 * the peer connect its two vsock ports, accept each. Without a vsock
 * device (the rig without VPORTX_VSOCK=1) there is no column.
 */
static int vsock_accept(int nr, const char *id)
{
	int l = rig_vsock_listen(nr), fd;

	if (l < 0)
		fail("vsock port %d: %s", nr, strerror(-l));
	CTL("connect %s", id);
	fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		fail("vsock port %d: accept: %s", nr, strerror(errno));
	close(l);
	return fd;
}

/* Does the rig have a vsock device: vportx.vsock=1 on the command line? */
static int rig_vsock(void)
{
	char line[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	return strstr(line, "vportx.vsock=1") != NULL;
}

static void vsock_setup(void)
{
	if (!rig_vsock()) {
		info("the rig has no vsock device: no vsock column");
		return;
	}
	vsock_fd[0] = vsock_accept(VSOCK_NR, VSOCK_PORT);
	vsock_fd[1] = vsock_accept(VSOCK_NR + 1, VSOCK_FLOOD);
}

static int kind_on(enum node_kind k)
{
	return k != VSOCK || vsock_fd[0] >= 0;
}

/* ---- ceilings ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted @v. */
/* The @pm per mille point of @n sorted values: the nearest-rank method. */
static double permille(const double *v, size_t n, int pm)
{
	size_t r = (n * pm + 999) / 1000;

	return v[r ? r - 1 : 0];
}

static double pct(const double *v, size_t n, int p)
{
	return permille(v, n, p * 10);
}

/*
 * The kernel's own copy: read() of a tmpfs file in the page cache into
 * @dst, 1 MiB at a time, is one copy_to_user per byte and nothing else.
 */
static double kcopy(char *dst)
{
	int fd = open(shm_file, O_RDONLY | O_CLOEXEC);
	double t0, t1;

	if (fd < 0)
		fail("%s: %s", shm_file, strerror(errno));
	t0 = now();
	read_exact(fd, dst, cfg.bulk, MIB, shm_file);
	t1 = now();
	close(fd);
	if (memcmp(dst, bulk_buf, cfg.bulk))
		fail("kernel copy ceiling: the file differs");
	return cfg.bulk / (t1 - t0) / 1e6;
}

/* Empty @len bytes out of pipe @in into /dev/null (@null), no copy. */
static void pipe_empty(int in, int null, size_t len)
{
	while (len) {
		ssize_t n = splice(in, NULL, null, NULL, len, 0);

		if (n <= 0)
			fail("pipe ceiling: splice to /dev/null: %s",
			     n ? strerror(errno) : "0");
		len -= n;
	}
}

/*
 * The cheapest write() that copies a message somewhere: the messages of
 * msg_buf[@si], one write() each, into a 1 MiB pipe that is emptied
 * without a copy (splice to /dev/null) whenever it is full, all on one
 * CPU, so no wake-ups either. A node's write() copies too, so no
 * one-write()-per-message path gets past this (msgs/s).
 */
static double pipe_rate(int null, size_t si)
{
	size_t size = msg_sizes[si], fill = MIB / size, i;
	const char *p = msg_buf[si];
	double t0, t1;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		fail("pipe: %s", strerror(errno));
	if (fcntl(fds[1], F_SETPIPE_SZ, MIB) < 0)
		fail("F_SETPIPE_SZ: %s", strerror(errno));
	t0 = now();
	for (i = 0; i < cfg.msgs; i++, p += size) {
		if (write(fds[1], p, size) != (ssize_t)size)
			fail("pipe ceiling: write: %s", strerror(errno));
		if ((i + 1) % fill == 0)
			pipe_empty(fds[0], null, fill * size);
	}
	t1 = now();
	close(fds[0]);
	close(fds[1]);
	return cfg.msgs / (t1 - t0);
}

static void pin(int cpu)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	for (i = 0; i < CPU_SETSIZE; i++)
		if (cpu < 0 || i == cpu)
			CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * The latency floor: 64-byte round trips over two pipes between this
 * process on vCPU 0 and a child echoing on vCPU 1, two cross-CPU wake-ups
 * each. The median in us.
 */
static double wakeup_p50(void)
{
	int ab[2], ba[2], status;
	char msg[64] = { 0 };
	size_t i;
	pid_t pid;

	if (pipe(ab) || pipe(ba))
		fail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		pin(1);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ab[1]);
		close(ba[0]);
		while (read(ab[0], msg, sizeof(msg)) == sizeof(msg))
			if (write(ba[1], msg, sizeof(msg)) != sizeof(msg))
				_exit(1);
		_exit(0);
	}
	/* Each side keeps only its own ends: EOF, not a hang, if one goes. */
	close(ab[0]);
	close(ba[1]);
	pin(0);
	for (i = 0; i < cfg.pings; i++) {
		double t0 = now();

		write_all(ab[1], msg, sizeof(msg), sizeof(msg), "pipe");
		read_exact(ba[0], msg, sizeof(msg), sizeof(msg), "pipe");
		rtt[i] = (now() - t0) * 1e6;
	}
	close(ab[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("pipe ping-pong: the echo child failed");
	close(ba[0]);
	pin(-1);
	qsort(rtt, cfg.pings, sizeof(*rtt), cmp_double);
	return pct(rtt, cfg.pings, 50);
}

static void ceilings(void)
{
	char buf[256];
	int run, fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	char *dst = xmalloc(cfg.bulk);

	if (fd < 0)
		fail("/dev/null: %s", strerror(errno));
	memset(buf, 'x', sizeof(buf));
	for (run = 0; run <= cfg.runs; run++) {
		double t0, t1;
		size_t i, off;

		t0 = now();
		for (i = 0; i < cfg.null_writes; i++)
			if (write(fd, buf, sizeof(buf)) != sizeof(buf))
				fail("/dev/null: %s", strerror(errno));
		t1 = now();
		result("ceiling_syscall", "-", run, "rate",
		       cfg.null_writes / (t1 - t0), "syscalls/s");

		t0 = now();
		for (off = 0; off < cfg.bulk; off += MIB)
			memcpy(dst + off, bulk_buf + off, MIB);
		t1 = now();
		if (memcmp(dst, bulk_buf, cfg.bulk))
			fail("memcpy ceiling: copy differs");
		result("ceiling_memcpy", "-", run, "bw",
		       cfg.bulk / (t1 - t0) / 1e6, "MB/s");
		result("ceiling_kcopy", "-", run, "bw", kcopy(dst), "MB/s");
		result("ceiling_wakeup", "-", run, "p50", wakeup_p50(), "us");
		for (i = 0; i < NMSG; i++) {
			char wl[32];

			snprintf(wl, sizeof(wl), "ceiling_pipe%zu",
				 msg_sizes[i]);
			result(wl, "-", run, "rate", pipe_rate(fd, i),
			       "msgs/s");
		}
	}
	close(fd);
	free(dst);
}

/* ---- guest -> host ---- */

/*
 * @n messages of @size bytes, one write() each: time to the last write
 * (stock) or to fsync() (vportx), and to the host having them all.
 */
static void msg_run(enum node_kind k, int run, int si)
{
	size_t size = msg_sizes[si], total = cfg.msgs * size, i;
	const char *p = msg_buf[si];
	struct cpu_mark a, b;
	struct tx_mark ta, tb;
	char wl[32];
	double t0, t1, t2;
	int fd;

	snprintf(wl, sizeof(wl), "msg%zu", size);
	reset_ports();
	CTL("%s %s %zu %zu", SINK_CMD, main_port(k), total, (size_t)SEED_MSG + size);
	fd = open_node(k, main_port(k), main_node(k));
	tx_mark(k, &ta);
	cpu_mark(&a);
	t0 = a.t;
	for (i = 0; i < cfg.msgs; i++, p += size) {
		ssize_t n = write(fd, p, size);

		if (n != (ssize_t)size) {
			if (n < 0 && errno != EINTR)
				fail("%s: write: %s", wl, strerror(errno));
			write_all(fd, p + (n > 0 ? n : 0),
				  size - (n > 0 ? n : 0), size, wl);
		}
	}
	drain(k, fd, wl);
	t1 = now();
	sink_check(main_port(k), total, msg_hash[si]);
	cpu_mark(&b);
	t2 = b.t;
	tx_mark(k, &tb);
	close(fd);
	result(wl, kind_name[k], run, "guest_rate", cfg.msgs / (t1 - t0),
	       "msgs/s");
	result(wl, kind_name[k], run, "host_rate", cfg.msgs / (t2 - t0),
	       "msgs/s");
	busy_results(wl, kind_name[k], run, &a, &b);
	result(wl, kind_name[k], run, "cpu_proc_us",
	       (b.proc - a.proc) / cfg.msgs * 1e6, "us/msg");
	tx_results(wl, k, run, &ta, &tb);
}

/*
 * Many messages per system call: writev() of BATCH messages (an iovec
 * each), or io_uring submitting BATCH writes of a message each, linked so
 * that they run in order on the byte stream, with one io_uring_enter().
 */
#define BATCH 64
enum batch_way { BY_WRITEV, BY_URING };

/* @cnt messages of @size bytes at @p by one writev(), the rest if short. */
static void writev_batch(int fd, const char *p, size_t size, size_t cnt,
			 const char *wl)
{
	struct iovec iov[BATCH];
	size_t i;
	ssize_t n;

	for (i = 0; i < cnt; i++) {
		iov[i].iov_base = (char *)p + i * size;
		iov[i].iov_len = size;
	}
	n = writev(fd, iov, cnt);
	if (n < 0 && errno != EINTR)
		fail("%s: writev: %s", wl, strerror(errno));
	if (n < (ssize_t)(cnt * size))
		write_all(fd, p + (n > 0 ? n : 0), cnt * size - (n > 0 ? n : 0),
			  cnt * size, wl);
}

static void uring_batch(struct io_uring *ring, int fd, const char *p,
			size_t size, size_t cnt, const char *wl)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	unsigned int head, seen = 0;
	size_t i;
	int ret;

	for (i = 0; i < cnt; i++) {
		sqe = io_uring_get_sqe(ring);
		if (!sqe)
			fail("%s: no free SQE", wl);
		io_uring_prep_write(sqe, fd, p + i * size, size, -1);
		if (i + 1 < cnt)
			sqe->flags |= IOSQE_IO_LINK;
	}
	ret = io_uring_submit_and_wait(ring, cnt);
	if (ret < 0)
		fail("%s: io_uring_submit_and_wait: %s", wl, strerror(-ret));
	/* A short or failed write breaks the chain: the stream is wrong. */
	io_uring_for_each_cqe(ring, head, cqe) {
		if (cqe->res != (int)size)
			fail("%s: a write gave %d of %zu (%s)", wl, cqe->res,
			     size, cqe->res < 0 ? strerror(-cqe->res) : "short");
		seen++;
	}
	if (seen != cnt)
		fail("%s: %u of %zu writes completed", wl, seen, cnt);
	io_uring_cq_advance(ring, seen);
}

/* cfg.msgs messages of 256 B, BATCH per system call. */
static void batch_run(enum node_kind k, int run, enum batch_way way)
{
	const char *wl = way == BY_WRITEV ? "writev256" : "uring256";
	size_t size = 256, si = 1, total = cfg.msgs * size, i, cnt;
	const char *p = msg_buf[si];
	struct io_uring ring;
	struct cpu_mark a, b;
	double t1;
	int fd, ret;

	reset_ports();
	CTL("%s %s %zu %zu", SINK_CMD, main_port(k), total,
	    (size_t)SEED_MSG + size);
	fd = open_node(k, main_port(k), main_node(k));
	/*
	 * A linked write starts from task work once the one before it is
	 * done: deferred to io_uring_enter() here rather than signalled.
	 */
	ret = way == BY_URING ?
	      io_uring_queue_init(BATCH, &ring, IORING_SETUP_SINGLE_ISSUER |
					       IORING_SETUP_DEFER_TASKRUN) : 0;
	if (ret)
		fail("%s: io_uring_queue_init: %s", wl, strerror(-ret));
	cpu_mark(&a);
	for (i = 0; i < cfg.msgs; i += cnt, p += cnt * size) {
		cnt = cfg.msgs - i < BATCH ? cfg.msgs - i : BATCH;
		if (way == BY_WRITEV)
			writev_batch(fd, p, size, cnt, wl);
		else
			uring_batch(&ring, fd, p, size, cnt, wl);
	}
	drain(k, fd, wl);
	t1 = now();
	sink_check(main_port(k), total, msg_hash[si]);
	cpu_mark(&b);
	if (way == BY_URING)
		io_uring_queue_exit(&ring);
	close(fd);
	result(wl, kind_name[k], run, "guest_rate", cfg.msgs / (t1 - a.t),
	       "msgs/s");
	result(wl, kind_name[k], run, "host_rate", cfg.msgs / (b.t - a.t),
	       "msgs/s");
	busy_results(wl, kind_name[k], run, &a, &b);
	result(wl, kind_name[k], run, "cpu_proc_us",
	       (b.proc - a.proc) / cfg.msgs * 1e6, "us/msg");
}

enum bulk_way { BY_WRITE, BY_VMSPLICE, BY_SENDFILE };

static void vmsplice_all(int fd, const char *buf, size_t len)
{
	size_t done = 0;
	int p[2];

	if (pipe(p))
		fail("pipe: %s", strerror(errno));
	while (done < len) {
		struct iovec iov = { .iov_base = (char *)buf + done,
				     .iov_len = len - done };
		ssize_t in = vmsplice(p[1], &iov, 1, 0);

		if (in <= 0)
			fail("vmsplice: %s", in ? strerror(errno) : "0");
		while (in > 0) {
			ssize_t out = splice(p[0], NULL, fd, NULL, in, 0);

			if (out < 0 && errno == EINTR)
				continue;
			if (out <= 0)
				fail("splice into the node: %s",
				     out ? strerror(errno) : "0");
			in -= out;
			done += out;
		}
	}
	close(p[0]);
	close(p[1]);
}

static void sendfile_all(int fd, size_t len)
{
	int file = open(shm_file, O_RDONLY | O_CLOEXEC);
	off_t off = 0;

	if (file < 0)
		fail("%s: %s", shm_file, strerror(errno));
	while ((size_t)off < len) {
		ssize_t n = sendfile(fd, file, &off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("sendfile: %s", n ? strerror(errno) : "0");
	}
	close(file);
}

/* cfg.bulk bytes out by write() of 1 MiB, vmsplice+splice or sendfile. */
static void bulk_out_run(enum node_kind k, int run, enum bulk_way way)
{
	static const char *const names[] = { "bulk_write", "vmsplice",
					     "sendfile" };
	const char *wl = names[way];
	struct cpu_mark a, b;
	struct tx_mark ta, tb;
	double t1;
	int fd;

	reset_ports();
	CTL("%s %s %zu %d", SINK_CMD, main_port(k), cfg.bulk, SEED_BULK);
	fd = open_node(k, main_port(k), main_node(k));
	tx_mark(k, &ta);
	cpu_mark(&a);
	if (way == BY_WRITE)
		write_all(fd, bulk_buf, cfg.bulk, MIB, wl);
	else if (way == BY_VMSPLICE)
		vmsplice_all(fd, bulk_buf, cfg.bulk);
	else
		sendfile_all(fd, cfg.bulk);
	drain(k, fd, wl);
	t1 = now();
	sink_check(main_port(k), cfg.bulk, bulk_hash);
	cpu_mark(&b);
	tx_mark(k, &tb);
	close(fd);
	result(wl, kind_name[k], run, "guest_bw", cfg.bulk / (t1 - a.t) / 1e6,
	       "MB/s");
	result(wl, kind_name[k], run, "host_bw", cfg.bulk / (b.t - a.t) / 1e6,
	       "MB/s");
	busy_results(wl, kind_name[k], run, &a, &b);
	cpu_results(wl, kind_name[k], run, &a, &b, cfg.bulk);
	if (way == BY_WRITE)
		tx_results(wl, k, run, &ta, &tb);
}

/* ---- host -> guest ---- */

/* cfg.bulk bytes in with read()s of 1 MiB, checked once all are in. */
static void bulk_in_run(enum node_kind k, int run)
{
	const char *wl = "bulk_read";
	struct cpu_mark a, b;
	int fd;

	reset_ports();
	memset(recv_buf, 0, cfg.bulk);
	fd = open_node(k, main_port(k), main_node(k));
	cpu_mark(&a);
	CTL("%s %s %zu %d", SOURCE_CMD, main_port(k), cfg.bulk, SEED_BULK);
	read_exact(fd, recv_buf, cfg.bulk, MIB, wl);
	cpu_mark(&b);
	source_check(main_port(k), cfg.bulk);
	close(fd);
	if (memcmp(recv_buf, bulk_buf, cfg.bulk)) {
		int64_t bad = pattern_check(recv_buf, cfg.bulk, SEED_BULK, 0);

		fail("%s %s: byte %" PRId64 " differs from the pattern", wl,
		     kind_name[k], bad);
	}
	if (fnv64_update(FNV64_INIT, recv_buf, cfg.bulk) != bulk_hash)
		fail("%s %s: checksum differs", wl, kind_name[k]);
	result(wl, kind_name[k], run, "bw", cfg.bulk / (b.t - a.t) / 1e6,
	       "MB/s");
	busy_results(wl, kind_name[k], run, &a, &b);
	cpu_results(wl, kind_name[k], run, &a, &b, cfg.bulk);
}

/*
 * Where splice_in() empties its pipe: read() into memory (one copy, like
 * read() from the node), splice() into a tmpfs file (one copy, into the
 * page cache), or splice() to /dev/null (no copy at all: what the port
 * delivers with no guest copy, checked by count only).
 */
enum splice_sink { TO_READ, TO_FILE, TO_NULL, NSINKS };
static const char *const splice_names[NSINKS] = {
	"splice_read", "splice_file", "splice_null" };
static const char *splice_file = "/dev/shm/vportx-bench-in.dat";

/* Move @n bytes out of pipe @p into @out, or fail. */
static void pipe_out(int p, int out, size_t n, const char *wl)
{
	while (n) {
		ssize_t m = splice(p, NULL, out, NULL, n, 0);

		if (m < 0 && errno == EINTR)
			continue;
		if (m <= 0)
			fail("%s: splice out: %s", wl, m ? strerror(errno) : "0");
		n -= m;
	}
}

/* Empty pipe @p of @n bytes, received at offset @done, into @sink. */
static void pipe_drain(enum splice_sink sink, int p, int out, size_t done,
		       size_t n)
{
	if (sink == TO_READ)
		read_exact(p, recv_buf + done, n, n, splice_names[sink]);
	else
		pipe_out(p, out, n, splice_names[sink]);
}

/* What TO_FILE and TO_NULL splice to; -1 for TO_READ. */
static int splice_out_fd(enum splice_sink sink)
{
	int fd = -1;

	if (sink == TO_FILE)
		fd = open(splice_file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0600);
	else if (sink == TO_NULL)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (sink != TO_READ && fd < 0)
		fail("%s: %s", splice_names[sink], strerror(errno));
	return fd;
}

/* After the timing: what was received is the pattern (TO_NULL: count only). */
static void splice_check(enum node_kind k, enum splice_sink sink, int out)
{
	const char *wl = splice_names[sink];

	if (sink == TO_NULL)
		return;
	if (sink == TO_FILE) {
		if (lseek(out, 0, SEEK_SET))
			fail("%s: lseek: %s", wl, strerror(errno));
		read_exact(out, recv_buf, cfg.bulk, MIB, wl);
	}
	if (memcmp(recv_buf, bulk_buf, cfg.bulk))
		fail("%s %s: data differs from the pattern", wl, kind_name[k]);
}

/*
 * Whether node @k has splice_read: the stock and stacked nodes have none
 * (their errno is reported once), the direct node has.
 */
/*
 * Does the node have splice_read? A socket has; the probe would block on
 * it (without splice_read of its own, vsock's goes through read_iter,
 * which does not look at SPLICE_F_NONBLOCK).
 */
static int splice_supported(enum node_kind k, int fd, int p, const char *wl)
{
	ssize_t n = k == VSOCK ? 0 :
		    splice(fd, NULL, p, NULL, 4096, SPLICE_F_NONBLOCK);

	if (n >= 0 || errno == EAGAIN)
		return 1;
	result_str(wl, kind_name[k], "errno", errname(errno));
	info("%s: splice from the %s node: %s", wl, kind_name[k],
	     strerror(errno));
	return 0;
}

/*
 * splice() out of the node into a pipe of 1 MiB, emptied into @sink; the
 * direct node gives the received pages to the pipe.
 */
static void splice_in(enum node_kind k, int run, enum splice_sink sink,
		      int *supported)
{
	const char *wl = splice_names[sink];
	int fd, out = -1, p[2];
	struct cpu_mark a, b;
	size_t done = 0;

	reset_ports();
	fd = open_node(k, main_port(k), main_node(k));
	if (pipe2(p, O_CLOEXEC))
		fail("pipe: %s", strerror(errno));
	fcntl(p[1], F_SETPIPE_SZ, (int)MIB);
	if (*supported < 0)
		*supported = splice_supported(k, fd, p[1], wl);
	if (!*supported)
		goto out;
	memset(recv_buf, 0, cfg.bulk);
	out = splice_out_fd(sink);
	cpu_mark(&a);
	CTL("%s %s %zu %d", SOURCE_CMD, main_port(k), cfg.bulk, SEED_BULK);
	while (done < cfg.bulk) {
		ssize_t n = splice(fd, NULL, p[1], NULL, cfg.bulk - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("%s: splice: %s", wl, n ? strerror(errno) : "EOF");
		pipe_drain(sink, p[0], out, done, n);
		done += n;
	}
	cpu_mark(&b);
	source_check(main_port(k), cfg.bulk);
	splice_check(k, sink, out);
	result(wl, kind_name[k], run, "bw", cfg.bulk / (b.t - a.t) / 1e6,
	       "MB/s");
	busy_results(wl, kind_name[k], run, &a, &b);
	cpu_results(wl, kind_name[k], run, &a, &b, cfg.bulk);
out:
	if (out >= 0)
		close(out);
	unlink(splice_file);
	close(p[0]);
	close(p[1]);
	close(fd);
}

/* ---- latency ---- */

/*
 * @n 64-byte round trips through the peer's echo, each timed into rtt[]
 * and compared with what was sent.
 */
static void ping_pong(int fd, size_t n)
{
	char back[64];
	size_t i;

	for (i = 0; i < n; i++) {
		const char *msg = ping_buf + i * 64;
		double t0 = now();

		write_all(fd, msg, 64, 64, "ping");
		read_exact(fd, back, 64, 64, "pong");
		rtt[i] = (now() - t0) * 1e6;
		if (memcmp(back, msg, 64))
			fail("ping-pong: round trip %zu came back different", i);
	}
}

/*
 * Every reported round trip of a workload, per node: the p99 of one run
 * of 5,000 is the 50th slowest, and moves between runs by more than the
 * nodes differ; pooled, the runs give one p99 of 35,000.
 */
static double *rtt_pool[NKINDS];
static size_t rtt_pooled[NKINDS];

static void rtt_results(const char *wl, enum node_kind k, int run, size_t n)
{
	qsort(rtt, n, sizeof(*rtt), cmp_double);
	result(wl, kind_name[k], run, "p50", pct(rtt, n, 50), "us");
	result(wl, kind_name[k], run, "p99", pct(rtt, n, 99), "us");
	if (!run)
		return;
	if (!rtt_pool[k])
		rtt_pool[k] = xmalloc(cfg.runs * cfg.pings * sizeof(*rtt));
	memcpy(rtt_pool[k] + rtt_pooled[k], rtt, n * sizeof(*rtt));
	rtt_pooled[k] += n;
}

/* The pooled p99 and p99.9 of @wl, per node, as one result each. */
static void rtt_pool_results(const char *wl)
{
	enum node_kind k;
	size_t n;

	for (k = STOCK; k < NKINDS; k++) {
		n = rtt_pooled[k];
		rtt_pooled[k] = 0;
		if (!n)
			continue;
		qsort(rtt_pool[k], n, sizeof(*rtt), cmp_double);
		result(wl, kind_name[k], 1, "p99_pooled",
		       permille(rtt_pool[k], n, 990), "us");
		result(wl, kind_name[k], 1, "p999_pooled",
		       permille(rtt_pool[k], n, 999), "us");
	}
}

static void ping_run(enum node_kind k, int run)
{
	struct cpu_mark a, b;
	int fd;

	reset_ports();
	CTL("echo %s", main_port(k));
	fd = open_node(k, main_port(k), main_node(k));
	cpu_mark(&a);
	ping_pong(fd, cfg.pings);
	cpu_mark(&b);
	close(fd);
	CTL("reset %s", main_port(k));
	rtt_results("pingpong", k, run, cfg.pings);
	busy_results("pingpong", kind_name[k], run, &a, &b);
}

/* Shared between the ping-pong and the flooder it runs beside. */
struct flood_state {
	volatile int started;
	volatile int stop;
	volatile int segments;
	volatile double t0, t1;
};

/*
 * The flooder: sinks of cfg.flood_seg bytes on the flood port, one after
 * the other, each written with 1 MiB writes and checked, until told to
 * stop. The parent makes no control request while it runs.
 */
static void __attribute__((noreturn)) flooder(enum node_kind k,
					      struct flood_state *fs)
{
	int fd = open_node(k, flood_port(k), flood_node(k));

	fs->t0 = now();
	while (!fs->stop) {
		size_t off;

		CTL("%s %s %zu %d", SINK_CMD, flood_port(k), cfg.flood_seg, SEED_FLOOD);
		for (off = 0; off < cfg.flood_seg; off += MIB) {
			write_all(fd, flood_buf + off, MIB, MIB, "flood");
			fs->started = 1;
		}
		sink_check(flood_port(k), cfg.flood_seg, flood_hash);
		fs->segments++;
	}
	fs->t1 = now();
	close(fd);
	_exit(0);
}

/* Ping-pong on the main port while the flood port floods the host. */
static void fair_run(enum node_kind k, int run)
{
	struct flood_state *fs;
	struct cpu_mark a, b;
	struct tx_mark ta, tb;
	int fd, status;
	pid_t pid;

	fs = mmap(NULL, sizeof(*fs), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fs == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	memset(fs, 0, sizeof(*fs));
	reset_ports();
	CTL("echo %s", main_port(k));
	fd = open_node(k, main_port(k), main_node(k));
	tx_mark_of(k, flood_node(k), &ta);
	/*
	 * The marks take the flood's start and end along: between them the
	 * flooder uses the control port, which takes one request at a time.
	 */
	cpu_mark(&a);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fd);
		flooder(k, fs);
	}
	while (!fs->started) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			fail("fairness: the flooder died before flooding");
		usleep(1000);
	}
	ping_pong(fd, cfg.pings);
	fs->stop = 1;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("fairness: the flood failed (status %#x)", status);
	cpu_mark(&b);
	tx_mark_of(k, flood_node(k), &tb);
	close(fd);
	CTL("reset %s", main_port(k));
	rtt_results("fairness", k, run, cfg.pings);
	busy_results("fairness", kind_name[k], run, &a, &b);
	result("fairness", kind_name[k], run, "flood_bw",
	       (double)fs->segments * cfg.flood_seg / (fs->t1 - fs->t0) / 1e6,
	       "MB/s");
	tx_results_as("fairness", "flood_", k, run, &ta, &tb);
	munmap(fs, sizeof(*fs));
}

/* ---- memory ---- */

/* /proc/meminfo fields, KiB: what MemAvailable is made of, roughly. */
struct meminfo {
	long long avail, slab, free, anon, shmem, kstack, ptables, vmalloc,
		  percpu, cached, sunreclaim;
};

static void settle(void)
{
	/* udev's idle workers exit 3 to 4 s after its last event. */
	if (system("udevadm settle --timeout=30"))
		info("udevadm settle failed");
	sleep(6);
	sync();
	if (system("echo 3 >/proc/sys/vm/drop_caches"))
		fail("drop_caches");
	sleep(1);
}

static void meminfo(struct meminfo *m)
{
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		fail("/proc/meminfo: %s", strerror(errno));
	memset(m, 0, sizeof(*m));
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "MemAvailable: %lld", &m->avail);
		sscanf(line, "Slab: %lld", &m->slab);
		sscanf(line, "MemFree: %lld", &m->free);
		sscanf(line, "AnonPages: %lld", &m->anon);
		sscanf(line, "Shmem: %lld", &m->shmem);
		sscanf(line, "KernelStack: %lld", &m->kstack);
		sscanf(line, "PageTables: %lld", &m->ptables);
		sscanf(line, "VmallocUsed: %lld", &m->vmalloc);
		sscanf(line, "Percpu: %lld", &m->percpu);
		sscanf(line, "Cached: %lld", &m->cached);
		sscanf(line, "SUnreclaim: %lld", &m->sunreclaim);
	}
	fclose(f);
}

static void meminfo_line(int run, const char *when, const struct meminfo *m)
{
	info("memory round %d %-8s KiB: MemAvailable %lld MemFree %lld "
	     "Cached %lld Shmem %lld AnonPages %lld Slab %lld SUnreclaim %lld "
	     "KernelStack %lld PageTables %lld VmallocUsed %lld Percpu %lld",
	     run, when, m->avail, m->free, m->cached, m->shmem, m->anon,
	     m->slab, m->sunreclaim, m->kstack, m->ptables, m->vmalloc,
	     m->percpu);
}

static void mem_results(const char *metric, int run,
			const struct meminfo *a, const struct meminfo *b)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_avail", metric);
	result("memory", "vportx", run, name,
	       (double)(a->avail - b->avail) / MANY, "KiB/port");
	snprintf(name, sizeof(name), "%s_slab", metric);
	result("memory", "vportx", run, name,
	       (double)(b->slab - a->slab) / MANY, "KiB/port");
}

/* Attach (and open) all 16 many.* ports; /proc/meminfo before and after. */
static void memory(void)
{
	struct meminfo m0, m1, m2, m3;
	int fds[MANY], i, run;
	char id[16];

	for (i = 0; i < MANY; i++)
		CTL("connect many.%02d", i);	/* late ports (rig.rst) */
	for (run = 0; run <= cfg.mem_rounds; run++) {
		settle();
		meminfo(&m0);
		for (i = 0; i < MANY; i++) {
			snprintf(id, sizeof(id), "many.%02d", i);
			attach(id, &many_a[i], &many_attached[i]);
		}
		settle();
		meminfo(&m1);
		for (i = 0; i < MANY; i++) {
			snprintf(id, sizeof(id), "many.%02d", i);
			fds[i] = open_node(VPORTX, id, &many_a[i]);
		}
		settle();
		meminfo(&m2);
		for (i = 0; i < MANY; i++) {
			snprintf(id, sizeof(id), "many.%02d", i);
			close(fds[i]);
			detach(id, &many_a[i], &many_attached[i]);
		}
		settle();
		meminfo(&m3);
		meminfo_line(run, "before", &m0);
		meminfo_line(run, "attached", &m1);
		meminfo_line(run, "open", &m2);
		meminfo_line(run, "detached", &m3);
		mem_results("attached", run, &m0, &m1);
		mem_results("opened", run, &m0, &m2);
		mem_results("after_detach", run, &m0, &m3);
	}
}

/* ---- main ---- */

static void parse_filter(char *list)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "checked")) {
			checked_host = 1;
		} else if (!strcmp(tok, "quick")) {
			cfg.runs = 2;
			cfg.msgs /= 10;
			cfg.bulk /= 8;
			cfg.null_writes /= 10;
			cfg.pings /= 4;
			cfg.flood_seg /= 4;
			cfg.mem_rounds = 1;
		} else if (nfilters < 16) {
			snprintf(filters[nfilters++], sizeof(filters[0]), "%s",
				 tok);
		}
	}
}

static void prepare(void)
{
	double t0 = now();
	size_t i;
	int fd;

	bulk_buf = pattern_alloc(cfg.bulk, SEED_BULK, &bulk_hash);
	recv_buf = xmalloc(cfg.bulk);
	for (i = 0; i < NMSG; i++)
		msg_buf[i] = pattern_alloc(cfg.msgs * msg_sizes[i],
					   SEED_MSG + msg_sizes[i],
					   &msg_hash[i]);
	ping_buf = pattern_alloc(cfg.pings * 64, SEED_PING, NULL);
	flood_buf = pattern_alloc(cfg.flood_seg, SEED_FLOOD, &flood_hash);
	rtt = xmalloc(cfg.pings * sizeof(*rtt));
	fd = open(shm_file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		fail("%s: %s", shm_file, strerror(errno));
	write_all(fd, bulk_buf, cfg.bulk, MIB, shm_file);
	close(fd);
	info("pattern buffers ready in %.1f s", now() - t0);
}

/*
 * The nodes alternated, cfg.runs each after a warm-up round (run 0,
 * checked but not reported: TCG translates the code paths the first time
 * they run).
 */
#define ALTERNATE(call) do {						\
		int _run;						\
		for (_run = 0; _run <= cfg.runs; _run++) {		\
			enum node_kind k;				\
			for (k = STOCK; k < NKINDS; k++)		\
				if (kind_on(k))				\
					call;				\
		}							\
	} while (0)

static void stage(const char *wl)
{
	info("%s (%.0f s)", wl, now());
}

int main(int argc, char **argv)
{
	struct utsname u;
	int opt, splice_ok[NKINDS] = { -1, -1, -1, -1 };
	enum splice_sink sink;
	double t_start = now();
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	main_pid = getpid();
	while ((opt = getopt(argc, argv, "f:r:")) != -1) {
		switch (opt) {
		case 'f':
			parse_filter(optarg);
			break;
		case 'r':
			cfg.runs = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-f LIST] [-r RUNS]\n",
				argv[0]);
			return 2;
		}
	}
	if (cfg.runs < 1)
		cfg.runs = 1;
	signal(SIGPIPE, SIG_IGN);
	uname(&u);
	printf("meta kernel %s\n", u.release);
	printf("meta cpus %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("meta runs %d\n", cfg.runs);
	printf("meta msgs %zu\n", cfg.msgs);
	printf("meta bulk_bytes %zu\n", cfg.bulk);
	printf("meta pings %zu\n", cfg.pings);
	printf("meta flood_segment %zu\n", cfg.flood_seg);
	printf("meta host %s\n", checked_host ? "checked" : "fast");

	ctl = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		fail("%s: %s (is vportx.ko loaded?)", CTL_PATH,
		     strerror(errno));
	prepare();
	stage("ceilings");
	ceilings();

	attach(MAIN_PORT, &main_a, &main_attached);
	attach(FLOOD_PORT, &flood_a, &flood_attached);
	claim_direct();
	vsock_setup();
	{
		int fd = open_node(STOCK, MAIN_PORT, &main_a);

		if (!fsync(fd))
			fail("fsync on the stock node succeeded");
		info("fsync on the stock node: %s", strerror(errno));
		result_str("fsync", "stock", "errno", errname(errno));
		close(fd);
	}
	for (i = 0; i < NMSG; i++) {
		char wl[32];

		snprintf(wl, sizeof(wl), "msg%zu", msg_sizes[i]);
		if (!wanted(wl))
			continue;
		stage(wl);
		ALTERNATE(msg_run(k, _run, i));
	}
	if (wanted("writev256")) {
		stage("writev256");
		ALTERNATE(batch_run(k, _run, BY_WRITEV));
	}
	if (wanted("uring256")) {
		stage("uring256");
		ALTERNATE(batch_run(k, _run, BY_URING));
	}
	if (wanted("bulk_write")) {
		stage("bulk_write");
		ALTERNATE(bulk_out_run(k, _run, BY_WRITE));
	}
	if (wanted("vmsplice")) {
		stage("vmsplice");
		ALTERNATE(bulk_out_run(k, _run, BY_VMSPLICE));
	}
	if (wanted("sendfile")) {
		stage("sendfile");
		ALTERNATE(bulk_out_run(k, _run, BY_SENDFILE));
	}
	if (wanted("bulk_read")) {
		stage("bulk_read");
		ALTERNATE(bulk_in_run(k, _run));
	}
	for (sink = TO_READ; sink < NSINKS; sink++) {
		if (!wanted(splice_names[sink]))
			continue;
		stage(splice_names[sink]);
		ALTERNATE(splice_in(k, _run, sink, &splice_ok[k]));
	}
	if (wanted("pingpong")) {
		stage("pingpong");
		ALTERNATE(ping_run(k, _run));
		rtt_pool_results("pingpong");
	}
	if (wanted("fairness")) {
		stage("fairness");
		ALTERNATE(fair_run(k, _run));
		rtt_pool_results("fairness");
	}
	reset_ports();
	detach(MAIN_PORT, &main_a, &main_attached);
	detach(FLOOD_PORT, &flood_a, &flood_attached);
	release_direct();
	if (wanted("memory")) {
		stage("memory");
		memory();
	}
	cleanup();
	printf("meta seconds %.0f\n", now() - t_start);
	printf("bench-done\n");
	return 0;
}
