// SPDX-License-Identifier: GPL-2.0
/*
 * What the vportx suites share (see vportx_util.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "vportx_util.h"

#define SYS_VPORTX "/sys/class/vportx"
/* How long a data node may take to appear in or vanish from devtmpfs. */
#define NODE_WAIT_MS 5000

int vportx_stock_numbers(const char *name, unsigned int *dev,
			 unsigned int *nr)
{
	char path[64];
	int ret = rig_port_path(name, path, sizeof(path));

	if (ret < 0)
		return ret;
	return sscanf(path, "/dev/vport%up%u", dev, nr) == 2 ? 0 : -EPROTO;
}

int vportx_direct_pair(const char *a, const char *b, unsigned int *index,
		       unsigned int *nr_a, unsigned int *nr_b)
{
	unsigned int index_b;
	int ret = rig_wait_port(a, 1);

	if (!ret)
		ret = rig_wait_port(b, 1);
	if (!ret)
		ret = vportx_stock_numbers(a, index, nr_a);
	if (!ret)
		ret = vportx_stock_numbers(b, &index_b, nr_b);
	if (!ret && *index != index_b)
		ret = -EXDEV;
	return ret;
}

int vportx_detach_minor(int ctl, __u32 minor)
{
	struct vportx_detach d = { .minor = minor };

	return ioctl(ctl, VPORTX_IOC_DETACH, &d) ? -errno : 0;
}

int vportx_info_of(int ctl, __u32 minor, __u32 flags,
		   struct vportx_info *info)
{
	memset(info, 0, sizeof(*info));
	info->minor = minor;
	info->flags = flags;
	return ioctl(ctl, VPORTX_IOC_INFO, info) ? -errno : 0;
}

int vportx_claim_ioctl(int ctl, unsigned long cmd, __u32 index, __u32 hold)
{
	struct vportx_claim c = { .index = index, .hold = hold };
	struct vportx_release r = { .index = index };

	if (cmd == VPORTX_IOC_RELEASE)
		return ioctl(ctl, cmd, &r) ? -errno : 0;
	return ioctl(ctl, cmd, &c) ? -errno : 0;
}

int vportx_find_direct(int ctl, unsigned int index, unsigned int nr,
		       struct vportx_attach *a)
{
	struct vportx_info info;
	char path[64];
	__u32 minor;
	int ret;

	snprintf(path, sizeof(path), "/dev/vportx%up%u", index, nr);
	ret = vportx_wait_path(path, 1);
	if (ret)
		return ret;
	for (minor = 0; !vportx_info_of(ctl, minor, VPORTX_INFO_F_NEXT, &info);
	     minor = info.minor + 1) {
		if (info.port_dev != index || info.port_nr != nr)
			continue;
		memset(a, 0, sizeof(*a));
		a->minor = info.minor;
		a->port_dev = index;
		a->port_nr = nr;
		return 0;
	}
	return -ENOENT;
}

void vportx_release_port(int ctl, const char *name)
{
	struct vportx_info info;
	unsigned int dev, nr;
	__u32 minor = 0;
	int i;

	if (vportx_stock_numbers(name, &dev, &nr))
		return;
	for (i = 0; i < 10000; i++) {
		if (vportx_info_of(ctl, minor, VPORTX_INFO_F_NEXT, &info) ||
		    info.minor < minor)
			return;
		if (info.port_dev == dev && info.port_nr == nr)
			vportx_detach_minor(ctl, info.minor);
		minor = info.minor + 1;
	}
}

void vportx_init_attach(struct vportx_attach *a, int fd, __u32 hold)
{
	memset(a, 0, sizeof(*a));
	a->fd = fd;
	a->hold = hold;
}

int vportx_attach_fd(int ctl, int fd, __u32 hold, struct vportx_attach *a)
{
	vportx_init_attach(a, fd, hold);
	return ioctl(ctl, VPORTX_IOC_ATTACH, a) ? -errno : 0;
}

int vportx_attach_port_tx(int ctl, const char *name, __u32 hold,
			  __u32 tx_limit, __u32 tx_low,
			  struct vportx_attach *a)
{
	int fd, ret;

	vportx_release_port(ctl, name);
	fd = rig_port_open(name, O_PATH);
	if (fd < 0)
		return fd;
	vportx_init_attach(a, fd, hold);
	a->tx_limit = tx_limit;
	a->tx_low = tx_low;
	ret = ioctl(ctl, VPORTX_IOC_ATTACH, a) ? -errno : 0;
	close(fd);
	return ret;
}

int vportx_attach_port(int ctl, const char *name, __u32 hold,
		       struct vportx_attach *a)
{
	return vportx_attach_port_tx(ctl, name, hold, 0, 0, a);
}

void vportx_node_path(const struct vportx_attach *a, char *path, size_t len)
{
	snprintf(path, len, "/dev/vportx%up%u", a->port_dev, a->port_nr);
}

int vportx_wait_path(const char *path, int exists)
{
	struct stat st;
	int i;

	for (i = 0; i <= NODE_WAIT_MS / 10; i++) {
		if ((stat(path, &st) == 0) == exists)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

int vportx_open_node(const struct vportx_attach *a, int flags)
{
	char path[64];
	int fd, ret;

	vportx_node_path(a, path, sizeof(path));
	ret = vportx_wait_path(path, 1);
	if (ret)
		return ret;
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * A direct node knows its host from the device's PORT_OPEN, which answers
 * a PORT_READY and may come after the node: until then the node reads
 * "unknown", which poll() calls no hangup. A stacked node never knows.
 */
int vportx_open_node_host(const struct vportx_attach *a, int timeout_ms)
{
	int fd = rig_host_or_close(vportx_open_node(a, O_RDWR), timeout_ms);
	char backend[16];

	if (fd >= 0 &&
	    !vportx_node_sysfs(a, "backend", backend, sizeof(backend)) &&
	    !strcmp(backend, "direct") &&
	    vportx_wait_attr(a, "host_connected", "1", timeout_ms)) {
		close(fd);
		return -ETIMEDOUT;
	}
	return fd;
}

int vportx_node_sysfs(const struct vportx_attach *a, const char *attr,
		      char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), SYS_VPORTX "/vportx%up%u/%s",
		 a->port_dev, a->port_nr, attr);
	return rig_read_file(path, buf, len);
}

long long vportx_node_counter(const struct vportx_attach *a, const char *attr)
{
	char buf[64];

	if (vportx_node_sysfs(a, attr, buf, sizeof(buf)) || !buf[0] ||
	    strspn(buf, "0123456789") != strlen(buf))
		return -1;
	return strtoll(buf, NULL, 10);
}

int vportx_node_sysfs_set(const struct vportx_attach *a, const char *attr,
			  const char *value)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SYS_VPORTX "/vportx%up%u/%s",
		 a->port_dev, a->port_nr, attr);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : 0;
}

int vportx_wait_attr(const struct vportx_attach *a, const char *attr,
		     const char *want, int timeout_ms)
{
	char buf[64];
	int i, ret;

	for (i = 0; i <= timeout_ms / 10; i++) {
		ret = vportx_node_sysfs(a, attr, buf, sizeof(buf));
		if (ret == -ENOENT && !strcmp(want, "gone"))
			return 0;
		if (!ret && !strcmp(buf, want))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

void vportx_many_id(int i, char *id, size_t len)
{
	snprintf(id, len, "many.%02d", i);
}

int vportx_many_connect(int i)
{
	char id[16];

	vportx_many_id(i, id, sizeof(id));
	if (rig_ctl_ok("connect %s", id))
		return -EPROTO;
	return rig_ctl_ok("reset %s", id);
}

/* One port's half, in its own process: 0 when every byte was right. */
static int many_port_io(int fd, unsigned int seed, int out, size_t n)
{
	struct rig_recv res;

	if (out)
		return rig_send(fd, seed, n, 65536, NULL) != (ssize_t)n;
	return rig_recv(fd, seed, n, 65536, &res) || res.bad != -1;
}

/* Every fd at once, one process each: how many of them failed. */
static int many_io(const int *fds, unsigned int seed, int out, size_t n)
{
	int i, status, failed = 0;
	pid_t pid;

	for (i = 0; i < VPORTX_MANY; i++) {
		pid = fork();
		if (pid < 0)
			return VPORTX_MANY;
		if (!pid) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(many_port_io(fds[i], seed + i, out, n));
		}
	}
	for (i = 0; i < VPORTX_MANY; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed++;
	return failed;
}

/* The peer's sink job on many.@i took exactly @n right bytes: 0, or -1. */
static int many_sunk(int i, size_t n, int timeout_ms)
{
	char id[16], reply[RIG_REPLY_MAX] = "";
	unsigned long long got;
	uint64_t hash;
	long long bad;

	vportx_many_id(i, id, sizeof(id));
	if (rig_ctl(reply, sizeof(reply), "wait %s %d", id, timeout_ms) ||
	    rig_parse_sunk(reply, &got, &hash, &bad)) {
		fprintf(stderr, "# %s: %s\n", id, reply);
		return -1;
	}
	if (got == n && bad == -1)
		return 0;
	fprintf(stderr, "# %s: %llu bytes of %zu, first bad at %lld\n", id,
		got, n, bad);
	return -1;
}

/* Start the peer's @job ("sink" or "source") of @n bytes on many.@i. */
static int many_job(int i, const char *job, size_t n, unsigned int seed)
{
	char id[16];

	vportx_many_id(i, id, sizeof(id));
	return rig_ctl_ok("%s %s %zu %u", job, id, n, seed);
}

int vportx_many_both_ways(const int *fds, unsigned int seed, size_t n,
			  int timeout_ms)
{
	unsigned int back = seed + VPORTX_MANY;
	int i, failed;

	for (i = 0; i < VPORTX_MANY; i++)
		if (many_job(i, "sink", n, seed + i))
			return -1;
	failed = many_io(fds, seed, 1, n);
	for (i = 0; i < VPORTX_MANY; i++)
		failed += !!many_sunk(i, n, timeout_ms);
	for (i = 0; i < VPORTX_MANY; i++)
		if (many_job(i, "source", n, back + i))
			return -1;
	return failed + many_io(fds, back, 0, n);
}

#define NOBODY 65534

/*
 * Run @fn(@ctl, @fd) in a child that dropped every id to nobody (which
 * clears its capabilities). Its exit status: 0 when @fn saw what it had to,
 * otherwise what it saw instead (the callers).
 */
int vportx_as_nobody(int (*fn)(int, int), int ctl, int fd)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid) {
		if (setgroups(0, NULL) ||
		    setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY) || geteuid() != NOBODY)
			_exit(254);
		_exit(fn(ctl, fd));
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 253;
}
