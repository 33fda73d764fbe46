// SPDX-License-Identifier: GPL-2.0
/*
 * vportx installed as a user installs it, with the real systemd-udevd:
 * `make install` in the guest, after which udev attaches every port per
 * policy and names its node /dev/vportx/NAME with the policy's owner,
 * group and mode; ports whose name comes late, hot-plugged ports and odd
 * names; unnamed ports under by-path; a user in the granted group opening
 * its node and no other; `vportxctl list --json` parsed by a real JSON
 * parser and compared with sysfs; exit codes; a bad policy line reported
 * as FILE:LINE and changing nothing; the compat links
 * /dev/virtio-ports/NAME; unmodified clients (qemu-guest-agent on its
 * default path; cat and dd, a poll-driven newline-delimited JSON client
 * through /dev/vportx/NAME); modprobe and automatic attach after rmmod;
 * `make uninstall`.
 *
 * The first test to run installs (once per boot). Runs last of the suites:
 * from then on every port of the guest is attached.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <inttypes.h>
#include <poll.h>
#include <signal.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "pattern.h"
#include "xfer.h"
#include "agent.h"

#define VPORTXCTL "/usr/local/sbin/vportxctl"
#define POLICY_D "/etc/vportx/policy.d"
#define MARK "/run/vportx-udev-test-installed"
#define WAIT_MS 10000
#define NOBODY 65534

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

/*
 * Let udev finish with what it was told. Each event runs vportxctl, which
 * takes seconds on the debug kernel: settle waits up to two minutes.
 */
static void settle(void)
{
	rig_sh("udevadm settle --timeout=120");
}

/* `make install` of the repository, once per boot. */
static void installed(struct __test_metadata *_metadata)
{
	const char *repo = getenv("VPORTX_REPO");
	struct timespec t0, t1;

	if (!access(MARK, F_OK))
		return;
	ASSERT_NE(NULL, repo);
	/* The module's pr_debug lines keep the rig's lifecycle count going. */
	ASSERT_EQ(0, rig_sh("mkdir -p /etc/modprobe.d " POLICY_D " && echo "
			"'options vportx dyndbg=+p' >/etc/modprobe.d/vportx.conf"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, rig_sh("make -C %s install >/run/vportx-install.log 2>&1",
			repo))
		rig_sh("tail -20 /run/vportx-install.log >&2");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("make install took %ld s", (long)(t1.tv_sec - t0.tv_sec));
	/*
	 * Its replay of every port's event outlasts the 30 s it waits for
	 * on the debug kernel; the tests start from a settled udev.
	 */
	settle();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TH_LOG("udev settled %ld s later", (long)(t0.tv_sec - t1.tv_sec));
	ASSERT_EQ(0, write_file(MARK, "1\n"));
}

/* Have udev look at the data node of port @name again. */
static int retrigger_node(const char *name)
{
	char path[64];
	unsigned int n, m;

	if (rig_port_path(name, path, sizeof(path)) < 0 ||
	    sscanf(path, "/dev/vport%up%u", &n, &m) != 2)
		return -1;
	return rig_sh("udevadm trigger --action=change --settle "
		  "/sys/class/vportx/vportx%up%u", n, m);
}

/*
 * Wait for @path to exist (or not): the ms it took, or -ETIMEDOUT. A
 * link comes after a chain of events (the port's, vportxctl attaching,
 * the node's), which on the debug kernel can take longer than WAIT_MS:
 * the wait starts once udev has settled.
 */
static int wait_path(const char *path, int exists)
{
	struct timespec t0, t1;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	settle();
	for (i = 0; i < WAIT_MS / 10; i++) {
		if ((access(path, F_OK) == 0) == exists) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			return (t1.tv_sec - t0.tv_sec) * 1000 +
			       (t1.tv_nsec - t0.tv_nsec) / 1000000;
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* The data node the stock node of port @name is attached as, resolved. */
static int expected_node(const char *name, char *node, size_t len)
{
	char path[64];
	unsigned int n, m;
	int ret = rig_port_path(name, path, sizeof(path));

	if (ret < 0)
		return ret;
	if (sscanf(path, "/dev/vport%up%u", &n, &m) != 2)
		return -EPROTO;
	snprintf(node, len, "/dev/vportx%up%u", n, m);
	return 0;
}

/* /dev/vportx/@link resolves to the data node of port @name. */
static void expect_link(struct __test_metadata *_metadata, const char *link,
			const char *name)
{
	char path[PATH_MAX], want[64], got[PATH_MAX];
	int ms;

	snprintf(path, sizeof(path), "/dev/vportx/%s", link);
	ms = wait_path(path, 1);
	ASSERT_LE(0, ms) TH_LOG("%s never appeared", path);
	TH_LOG("%s after %d ms", path, ms);
	ASSERT_EQ(0, expected_node(name, want, sizeof(want)));
	ASSERT_NE(NULL, realpath(path, got));
	EXPECT_STREQ(want, got);
}

/* Wait for @link to resolve to @want: the ms it took, or -ETIMEDOUT. */
static int wait_resolves(const char *link, const char *want)
{
	char got[PATH_MAX];
	int ms;

	for (ms = 0; ms < WAIT_MS; ms += 10) {
		if (realpath(link, got) && !strcmp(got, want))
			return ms;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* Owner, group and permission bits of @path. */
static void expect_perms(struct __test_metadata *_metadata, const char *path,
			 uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %s", path, strerror(errno));
	EXPECT_EQ(uid, st.st_uid) TH_LOG("%s", path);
	EXPECT_EQ(gid, st.st_gid) TH_LOG("%s", path);
	EXPECT_EQ(mode, st.st_mode & 07777) TH_LOG("%s", path);
}

FIXTURE(udev) {
	int unused;
};

FIXTURE_SETUP(udev)
{
	installed(_metadata);
}

/* A test that failed half-way must not leave qemu-ga holding its node. */
static pid_t qga_pid;

FIXTURE_TEARDOWN(udev)
{
	if (qga_pid > 0) {
		kill(qga_pid, SIGTERM);
		waitpid(qga_pid, NULL, 0);
		qga_pid = 0;
	}
}

/* Every named port but the console and the rig's own (busy) result port. */
TEST_F_TIMEOUT(udev, install_names_every_port, 600)
{
	const char *names[] = { "test.unix", "test.tcp", "test.udp",
				"test.spare", "vportx.ctl", "many.00",
				"many.15" };
	char node[64];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *name = names[i];

		expect_link(_metadata, name, name);
		ASSERT_EQ(0, expected_node(name, node, sizeof(node)));
		expect_perms(_metadata, node, 0, 0, 0600);
	}
	/*
	 * The console port: attaching opens nothing, so only an open tells
	 * it is one; its node refuses to open with ENXIO, as the stock one.
	 */
	expect_link(_metadata, "vportx.console", "vportx.console");
	EXPECT_EQ(-1, open("/dev/vportx/vportx.console", O_RDWR | O_CLOEXEC));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-ENXIO, rig_port_open("vportx.console", O_RDWR));
}

/* The port without a name is attached too, under by-path. */
TEST_F_TIMEOUT(udev, unnamed_port_by_path, 600)
{
	char real[PATH_MAX], link[128], *pci, *end;
	char stock[64], sys[96];

	ASSERT_EQ(0, rig_port_path("", stock, sizeof(stock)));
	snprintf(sys, sizeof(sys), "/sys/class/virtio-ports/%s",
		 stock + strlen("/dev/"));
	ASSERT_NE(NULL, realpath(sys, real));
	/* .../0000:00:04.0/virtio1/virtio-ports/vport1p6 */
	end = strstr(real, "/virtio");
	ASSERT_NE(NULL, end);
	*end = '\0';
	pci = strrchr(real, '/') + 1;
	snprintf(link, sizeof(link), "by-path/pci-%s-port%s", pci,
		 strrchr(stock, 'p') + 1);
	expect_link(_metadata, link, "");
}

/* Policy gives test.spare group dialout, 0660; a member may open it. */
TEST_F_TIMEOUT(udev, policy_owner_group_mode, 600)
{
	struct group *dialout = getgrnam("dialout");
	char node[64];
	int status;
	pid_t pid;

	ASSERT_NE(NULL, dialout);
	ASSERT_EQ(0, write_file(POLICY_D "/50-udev-test.conf",
				"test.spare group=dialout mode=0660\n"));
	ASSERT_EQ(0, retrigger_node("test.spare"));
	ASSERT_EQ(0, expected_node("test.spare", node, sizeof(node)));
	expect_perms(_metadata, node, 0, dialout->gr_gid, 0660);
	expect_perms(_metadata, "/dev/vportx/test.spare", 0, dialout->gr_gid,
		     0660);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		gid_t g = dialout->gr_gid;
		int fd, code = 0;

		if (setgroups(1, &g) || setgid(NOBODY) || setuid(NOBODY))
			_exit(99);
		fd = open("/dev/vportx/test.spare", O_RDWR);
		if (fd < 0)
			code |= 1;
		close(fd);
		if (open("/dev/vportx/test.unix", O_RDWR) >= 0 ||
		    errno != EACCES)
			code |= 2;
		if (open("/dev/vportx-control", O_RDWR) >= 0 || errno != EACCES)
			code |= 4;
		_exit(code);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("1: own node refused, 2: other node opened, "
		       "4: control opened, 99: no setuid");
	unlink(POLICY_D "/50-udev-test.conf");
	ASSERT_EQ(0, retrigger_node("test.spare"));
	expect_perms(_metadata, node, 0, 0, 0600);
}

/*
 * /dev/virtio-ports/NAME, the stock link agents open, leads to the data
 * node while there is one and to the stock node when it goes; compat=no
 * in the policy leaves it to the stock node.
 */
TEST_F_TIMEOUT(udev, compat_link_follows_node, 600)
{
	const char *link = "/dev/virtio-ports/test.unix";
	char node[64], stock[64];

	settle();
	ASSERT_EQ(0, expected_node("test.unix", node, sizeof(node)));
	ASSERT_LE(0, rig_port_path("test.unix", stock, sizeof(stock)));
	EXPECT_LE(0, wait_resolves(link, node));
	ASSERT_EQ(0, rig_sh(VPORTXCTL " detach test.unix"));
	EXPECT_LE(0, wait_resolves(link, stock));
	ASSERT_EQ(0, rig_sh(VPORTXCTL " attach test.unix >/dev/null"));
	settle();
	EXPECT_LE(0, wait_resolves(link, node));
	ASSERT_EQ(0, write_file(POLICY_D "/50-compat.conf",
				"test.unix compat=no\n"));
	ASSERT_EQ(0, retrigger_node("test.unix"));
	EXPECT_LE(0, wait_resolves(link, stock));
	/* Still named under /dev/vportx: only the compat link went. */
	expect_link(_metadata, "test.unix", "test.unix");
	unlink(POLICY_D "/50-compat.conf");
	ASSERT_EQ(0, retrigger_node("test.unix"));
	EXPECT_LE(0, wait_resolves(link, node));
}

/*
 * A hot-plugged port is attached and named, its name arriving after the
 * add, with its policy's permissions from the start.
 */
TEST_F_TIMEOUT(udev, hotplug_named_late, 600)
{
	struct group *dialout = getgrnam("dialout");

	ASSERT_NE(NULL, dialout);
	ASSERT_EQ(0, write_file(POLICY_D "/50-late.conf",
				"late.* hold=always group=dialout mode=0640\n"));
	ASSERT_EQ(0, rig_ctl_ok("hotplug late.1 late.1 1 26"));
	ASSERT_EQ(0, rig_wait_port("late.1", 1));
	expect_link(_metadata, "late.1", "late.1");
	expect_perms(_metadata, "/dev/vportx/late.1", 0, dialout->gr_gid,
		     0640);
	EXPECT_EQ(0, rig_sh("grep -qx always /sys/class/vportx/$(basename "
			"$(readlink /dev/vportx/late.1))/hold"));
	ASSERT_EQ(0, rig_ctl_ok("unplug late.1"));
	EXPECT_LE(0, wait_path("/dev/vportx/late.1", 0));
	unlink(POLICY_D "/50-late.conf");
}

#define ASYNC_BYTES (4 << 20)

/*
 * Read the @n bytes of pattern @seed the host of port @id sent, through
 * /dev/vportx/@link, and see the host's sender done.
 */
static void link_reads_all(struct __test_metadata *_metadata,
			   const char *link, const char *id, size_t n,
			   uint64_t seed)
{
	char path[PATH_MAX], reply[RIG_REPLY_MAX], expect[64];
	struct rig_recv res;
	int fd;

	snprintf(path, sizeof(path), "/dev/vportx/%s", link);
	fd = rig_host_or_close(open(path, O_RDWR | O_CLOEXEC), WAIT_MS);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, rig_recv(fd, seed, n, 1 << 20, &res));
	EXPECT_EQ(-1, res.bad);
	close(fd);
	ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "wait %s %d", id,
			     RIG_JOB_MS));
	snprintf(expect, sizeof(expect), "sent %zu", n);
	EXPECT_STREQ(expect, reply);
}

/*
 * The seed's async case, as at boot: the host sends 4 MiB before udev
 * attaches the port (its add event replayed), more than every queue on the
 * way holds; the node udev names reads all of it.
 */
TEST_F_TIMEOUT(udev, host_sent_before_udev_attach, 600)
{
	char path[64];

	settle();
	ASSERT_EQ(0, rig_port_path("test.spare", path, sizeof(path)));
	ASSERT_EQ(0, rig_sh(VPORTXCTL " detach test.spare"));
	ASSERT_EQ(0, rig_ctl_ok("reset test.spare"));
	ASSERT_EQ(0, rig_ctl_ok("source test.spare %d 9100", ASYNC_BYTES));
	usleep(200000);
	ASSERT_EQ(0, rig_sh("udevadm trigger --action=add --settle "
			"/sys/class/virtio-ports/%s", path + strlen("/dev/")));
	expect_link(_metadata, "test.spare", "test.spare");
	link_reads_all(_metadata, "test.spare", "test.spare", ASYNC_BYTES,
		       9100);
	rig_ctl_ok("reset test.spare");
}

/* A hot-plugged port whose host sends at once: all of it arrives. */
TEST_F_TIMEOUT(udev, hotplug_host_sends_at_once, 600)
{
	ASSERT_EQ(0, rig_ctl_ok("hotplug async.1 async.1 1 28"));
	ASSERT_EQ(0, rig_ctl_ok("source async.1 %d 9200", ASYNC_BYTES));
	ASSERT_EQ(0, rig_wait_port("async.1", 1));
	expect_link(_metadata, "async.1", "async.1");
	link_reads_all(_metadata, "async.1", "async.1", ASYNC_BYTES, 9200);
	ASSERT_EQ(0, rig_ctl_ok("unplug async.1"));
	EXPECT_LE(0, wait_path("/dev/vportx/async.1", 0));
}

/* Bytes udev does not allow in a link name become '_'. */
TEST_F_TIMEOUT(udev, odd_name_made_safe, 600)
{
	ASSERT_EQ(0, rig_ctl_ok("hotplug odd.1 odd/na*me?x 1 27"));
	ASSERT_EQ(0, rig_wait_port("odd/na*me?x", 1));
	expect_link(_metadata, "odd_na_me_x", "odd/na*me?x");
	ASSERT_EQ(0, rig_ctl_ok("unplug odd.1"));
	ASSERT_EQ(0, rig_wait_port("odd/na*me?x", 0));
	/* The closed node goes with its port, and its link with it. */
	EXPECT_LE(0, wait_path("/dev/vportx/odd_na_me_x", 0));
}

/* Python's json module parses the list, and every entry matches sysfs. */
static const char check_json[] =
	"import json, os, sys\n"
	"nodes = json.load(open('/run/vportx-list.json'))\n"
	"assert isinstance(nodes, list) and nodes, 'empty list'\n"
	"def attr(n, a):\n"
	"    return open('/sys/class/vportx/%s/%s' % (n, a)).read().strip()\n"
	"seen = set()\n"
	"for e in nodes:\n"
	"    n = os.path.basename(e['node'])\n"
	"    seen.add(n)\n"
	"    assert e['source'] == attr(n, 'source'), e\n"
	"    assert e['hold'] == attr(n, 'hold'), e\n"
	"    for k in ('open', 'tx_limit', 'tx_low', 'tx_queued', 'stalls',\n"
	"              'rx_budget', 'rx_queued', 'tx_coalesce_us'):\n"
	"        assert e[k] == int(attr(n, k)), (k, e)\n"
	"    assert e['host_connected'] in (True, False, None), e\n"
	"    if e['name']:\n"
	"        assert os.path.realpath(e['link']) == e['node'], e\n"
	"assert seen == set(os.listdir('/sys/class/vportx')), seen\n"
	"print('checked', len(nodes), 'nodes')\n";

TEST_F_TIMEOUT(udev, list_json_matches_sysfs, 600)
{
	settle();
	ASSERT_EQ(0, rig_sh(VPORTXCTL " list --json >/run/vportx-list.json"));
	ASSERT_EQ(0, write_file("/run/vportx-check.py", check_json));
	EXPECT_EQ(0, rig_sh("python3 /run/vportx-check.py >&2"));
	EXPECT_EQ(0, rig_sh(VPORTXCTL " status --json test.unix | python3 -c "
			"'import json,sys; e = json.load(sys.stdin); "
			"assert e[\"name\"] == \"test.unix\"' >&2"));
	/* Every port, and the node of an attached one. */
	EXPECT_EQ(0, rig_sh(VPORTXCTL " ports --json | python3 -c "
			"'import json,sys,os; p = json.load(sys.stdin); "
			"e = [x for x in p if x[\"name\"] == \"test.unix\"]; "
			"assert len(e) == 1, p; "
			"assert e[0][\"node\"] == "
			"os.path.realpath(\"/dev/vportx/test.unix\"), e' >&2"));
	/* The text forms show the attributes status --json does. */
	EXPECT_EQ(0, rig_sh(VPORTXCTL " status test.unix | grep -q '^rx_queued: '"));
	EXPECT_EQ(0, rig_sh(VPORTXCTL " list | head -1 | grep -q "
			"'^NODE .* RX_QUEUED .* TX_COALESCE_US .*NAME$'"));
}

/* ---- unmodified clients through /dev/vportx/NAME ---- */

#define QGA "org.qemu.guest_agent.0"
#define QGA_LINK "/dev/vportx/" QGA
#define QGA_FILE "/run/vportx-qga-file"

/*
 * A claimed device's nodes get the same names from udev: /dev/vportx/NAME
 * leads to the direct node, with its backend; released, the stacked node
 * takes the name back. DETACH is not how a direct node goes.
 */
TEST_F_TIMEOUT(udev, claimed_device_named, 600)
{
	char stock[64], want[64], got[PATH_MAX], backend[32];
	unsigned int n, m;
	int ms;

	settle();
	ASSERT_LE(0, rig_port_path("direct.a", stock, sizeof(stock)));
	ASSERT_EQ(2, sscanf(stock, "/dev/vport%up%u", &n, &m));
	ASSERT_EQ(0, rig_sh(VPORTXCTL " detach direct.a && "
			VPORTXCTL " detach direct.b"));
	ASSERT_EQ(0, rig_sh(VPORTXCTL " claim virtio%u", n));
	snprintf(want, sizeof(want), "/dev/vportx%up%u", n, m);
	ASSERT_EQ(0, wait_path(want, 1) < 0);
	settle();
	ASSERT_NE(NULL, realpath("/dev/vportx/direct.a", got));
	EXPECT_STREQ(want, got);
	EXPECT_EQ(0, rig_link_attr("/dev/vportx/direct.a", "backend", backend,
			       sizeof(backend)));
	EXPECT_STREQ("direct", backend);
	EXPECT_EQ(0, access("/dev/vportx/direct.b", F_OK));
	EXPECT_LE(0, wait_resolves("/dev/virtio-ports/direct.a", want));
	EXPECT_EQ(1, rig_sh(VPORTXCTL " detach direct.a 2>/dev/null"));
	EXPECT_EQ(0, access(want, F_OK));
	EXPECT_EQ(0, rig_sh(VPORTXCTL " release virtio%u", n));
	/* virtio_console's port again, attached by udev per policy. */
	for (ms = 0; ms < 20000; ms += 100) {
		if (!rig_link_attr("/dev/vportx/direct.a", "backend", backend,
			       sizeof(backend)) && !strcmp(backend, "stacked"))
			break;
		usleep(100000);
	}
	EXPECT_STREQ("stacked", backend);
	ASSERT_EQ(0, rig_wait_port("direct.b", 1));
	expect_link(_metadata, "direct.b", "direct.b");
}

/* Attribute @attr of the node /dev/vportx/@name leads to is @want. */
static void expect_link_attr(struct __test_metadata *_metadata,
			     const char *name, const char *attr,
			     const char *want)
{
	char link[128], buf[32] = "";

	snprintf(link, sizeof(link), "/dev/vportx/%s", name);
	EXPECT_EQ(0, rig_link_attr(link, attr, buf, sizeof(buf))) TH_LOG("%s", link);
	EXPECT_STREQ(want, buf) TH_LOG("%s %s", link, attr);
}

/* Wait up to a minute for /dev/vportx/@name to lead to a @backend node. */
static void expect_backend(struct __test_metadata *_metadata,
			   const char *name, const char *backend)
{
	char link[128], got[32] = "";
	int ms;

	snprintf(link, sizeof(link), "/dev/vportx/%s", name);
	for (ms = 0; ms < 60000; ms += 100) {
		if (!rig_link_attr(link, "backend", got, sizeof(got)) &&
		    !strcmp(got, backend))
			break;
		usleep(100000);
	}
	EXPECT_STREQ(backend, got) TH_LOG("%s", link);
}

/*
 * backend=direct in the policy has udev claim the port's device, each
 * port then getting its own settings, but not while a node of the
 * device is open (and then no node is detached); a device released by
 * hand stays with virtio_console, its ports attached stacked, until
 * claimed by hand again.
 */
TEST_F_TIMEOUT(udev, policy_claims_device, 600)
{
	char stock[64];
	unsigned int n, m;
	int fd;

	settle();
	ASSERT_LE(0, rig_port_path("direct.a", stock, sizeof(stock)));
	ASSERT_EQ(2, sscanf(stock, "/dev/vport%up%u", &n, &m));
	/* claimed_device_named released it by hand: the mark says so. */
	ASSERT_EQ(0, rig_sh("rm -f /run/vportx/released/virtio%u", n));
	ASSERT_EQ(0, write_file(POLICY_D "/50-direct.conf",
				"direct.a backend=direct hold=always "
				"tx_limit=256K rx_budget=64K\n"
				"direct.b tx_limit=2M tx_low=1M "
				"rx_budget=128K\n"));
	fd = open("/dev/vportx/direct.b", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("direct.b: %s", strerror(errno));
	ASSERT_EQ(0, rig_sh("udevadm trigger --action=change --settle "
			"/sys/class/virtio-ports/vport%up%u", n, m));
	settle();
	expect_link_attr(_metadata, "direct.a", "backend", "stacked");
	expect_link_attr(_metadata, "direct.b", "open", "1");
	close(fd);
	ASSERT_EQ(0, rig_sh("udevadm trigger --action=change --settle "
			"/sys/class/virtio-ports/vport%up%u", n, m));
	expect_backend(_metadata, "direct.a", "direct");
	expect_backend(_metadata, "direct.b", "direct");
	/*
	 * Each port's own settings, which udev applies once a node is there
	 * (vportxctl's apply_direct()): the claim's are the defaults.
	 */
	settle();
	expect_link_attr(_metadata, "direct.a", "hold", "always");
	expect_link_attr(_metadata, "direct.b", "hold", "open");
	expect_link_attr(_metadata, "direct.a", "tx_limit", "262144");
	expect_link_attr(_metadata, "direct.a", "tx_low", "131072");
	expect_link_attr(_metadata, "direct.b", "tx_limit", "2097152");
	expect_link_attr(_metadata, "direct.b", "tx_low", "1048576");
	expect_link_attr(_metadata, "direct.a", "rx_budget", "65536");
	expect_link_attr(_metadata, "direct.b", "rx_budget", "131072");
	EXPECT_EQ(0, rig_sh(VPORTXCTL " release virtio%u", n));
	settle();
	expect_backend(_metadata, "direct.a", "stacked");
	expect_backend(_metadata, "direct.b", "stacked");
	ASSERT_EQ(0, rig_sh("test -e /run/vportx/released/virtio%u", n));
	/* By hand again: the mark goes with the claim, and back with release. */
	EXPECT_EQ(0, rig_sh(VPORTXCTL " detach direct.a && " VPORTXCTL
			" detach direct.b && " VPORTXCTL " claim virtio%u", n));
	EXPECT_NE(0, rig_sh("test -e /run/vportx/released/virtio%u", n));
	expect_backend(_metadata, "direct.a", "direct");
	unlink(POLICY_D "/50-direct.conf");
	EXPECT_EQ(0, rig_sh(VPORTXCTL " release virtio%u", n));
	expect_backend(_metadata, "direct.a", "stacked");
	ASSERT_EQ(0, rig_wait_port("direct.b", 1));
	expect_link(_metadata, "direct.b", "direct.b");
}

/*
 * qemu-ga, as packaged and with its default path (/dev/virtio-ports/NAME,
 * the compat link), on the accelerated node; its pid once it has it open.
 */
static pid_t start_qga(struct __test_metadata *_metadata)
{
	char open_count[16] = "", node[PATH_MAX];
	pid_t pid;
	int i;

	ASSERT_LE(0, wait_path(QGA_LINK, 1));
	ASSERT_NE(NULL, realpath(QGA_LINK, node));
	ASSERT_LE(0, wait_resolves("/dev/virtio-ports/" QGA, node));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		execl("/usr/sbin/qemu-ga", "qemu-ga", "-m", "virtio-serial",
		      "-t", "/run", "-l", "/run/vportx-qga.log", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < WAIT_MS / 10; i++) {
		if (!rig_link_attr(QGA_LINK, "open", open_count,
			       sizeof(open_count)) && !strcmp(open_count, "1"))
			return pid;
		usleep(10000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	ASSERT_STREQ("1", open_count) TH_LOG("qemu-ga never opened " QGA_LINK);
	return -1;
}

/*
 * qemu-guest-agent, unmodified and with no path given, answers the host
 * through the accelerated node (shared/seeds 004): sync, sync-delimited,
 * ping, info, and a file written, sought, read back, flushed and closed,
 * its content checked on both sides.
 */
TEST_F_TIMEOUT(udev, qemu_guest_agent, 600)
{
	pid_t pid;

	ASSERT_EQ(0, rig_ctl_ok("reset qga"));
	pid = start_qga(_metadata);
	qga_pid = pid;
	qga_converse(_metadata, QGA_FILE);
	kill(pid, SIGTERM);
	EXPECT_EQ(pid, waitpid(pid, NULL, 0));
	qga_pid = 0;
}

/* @n bytes of pattern @seed in the file @path. */
static int pattern_file(const char *path, size_t n, uint64_t seed)
{
	char *buf = malloc(n);
	FILE *f = fopen(path, "w");
	int ret = -EIO;

	if (buf && f) {
		pattern_fill(buf, n, seed, 0);
		if (fwrite(buf, 1, n, f) == n)
			ret = 0;
	}
	if (f && fclose(f))
		ret = -EIO;
	free(buf);
	return ret;
}

/*
 * The shell usage of shared/seeds 000 through /dev/vportx/NAME: cat and dd
 * of a file into the node, 20 times in a row, checked by the host; the
 * host's data read with cat until the host hangs up, md5 compared.
 */
TEST_F_TIMEOUT(udev, shell_cat_dd, 600)
{
	const size_t n = 3 << 20;
	uint64_t hash = FNV64_INIT;
	char *buf = malloc(n);
	pid_t pid;
	int i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pattern_file("/run/vportx-guest-file", n, 5100));
	pattern_fill(buf, n, 5100, 0);
	/* guest -> host: cat and dd in turn, 20 times, each one checked. */
	hash = fnv64_update(hash, buf, n);
	ASSERT_EQ(0, rig_ctl_ok("reset test.unix"));
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, rig_ctl_ok("sink test.unix %zu 5100", n));
		ASSERT_EQ(0, rig_sh(i % 2 ? "cat /run/vportx-guest-file "
				">/dev/vportx/test.unix" :
				"dd if=/run/vportx-guest-file "
				"of=/dev/vportx/test.unix bs=64k 2>/dev/null"));
		rig_sink_check(_metadata, "test.unix", n, hash);
	}
	/* host -> guest: cat reads until the host hangs up, then EOF. */
	unlink("/run/vportx-received-file");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(rig_sh("cat /dev/vportx/test.unix "
			 ">/run/vportx-received-file"));
	ASSERT_EQ(0, wait_path("/run/vportx-received-file", 1) < 0);
	usleep(300000);
	ASSERT_EQ(0, rig_ctl_ok("source test.unix %zu 5100", n));
	ASSERT_EQ(0, rig_ctl_ok("wait test.unix %d", RIG_JOB_MS));
	ASSERT_EQ(0, rig_wait_unread_zero("test.unix"));
	ASSERT_EQ(0, rig_ctl_ok("disconnect test.unix"));
	EXPECT_EQ(pid, waitpid(pid, &i, 0));
	EXPECT_TRUE(WIFEXITED(i) && WEXITSTATUS(i) == 0);
	ASSERT_EQ(0, rig_ctl_ok("connect test.unix"));
	EXPECT_EQ(0, rig_sh("test \"$(md5sum </run/vportx-received-file)\" = "
			"\"$(md5sum </run/vportx-guest-file)\""));
	free(buf);
}

/*
 * A newline-delimited JSON client like the agent of shared/seeds 003:
 * non-blocking, poll-driven, requests pipelined, 10,000 request/answer
 * pairs through the host's echo, every answer matched to its request.
 */
TEST_F_TIMEOUT(udev, ndjson_client, 600)
{
	const int total = 10000, window = 64;
	char out[256], in[8192];
	int fd, sent = 0, got = 0, have = 0, id;
	struct pollfd pfd;

	ASSERT_EQ(0, rig_ctl_ok("reset test.spare"));
	ASSERT_EQ(0, rig_ctl_ok("echo test.spare"));
	fd = open("/dev/vportx/test.spare", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, rig_wait_host(fd, WAIT_MS));
	pfd.fd = fd;
	while (got < total) {
		pfd.events = POLLIN | (sent < total && sent - got < window ?
				       POLLOUT : 0);
		ASSERT_LT(0, poll(&pfd, 1, WAIT_MS)) TH_LOG("stuck at %d", got);
		if (pfd.revents & POLLOUT) {
			int len = snprintf(out, sizeof(out),
					   "{\"id\":%d,\"execute\":\"ping\","
					   "\"pad\":\"%0*d\"}\n", sent,
					   sent % 100, 0);

			if (write(fd, out, len) == len)
				sent++;
		}
		if (pfd.revents & POLLIN) {
			ssize_t n = read(fd, in + have, sizeof(in) - have - 1);
			char *line = in, *nl;

			ASSERT_LT(0, n) TH_LOG("%s", strerror(errno));
			have += n;
			in[have] = '\0';
			while ((nl = strchr(line, '\n'))) {
				ASSERT_EQ(1, sscanf(line, "{\"id\":%d,", &id));
				ASSERT_EQ(got, id);
				got++;
				line = nl + 1;
			}
			have -= line - in;
			memmove(in, line, have);
		}
	}
	EXPECT_EQ(total, got);
	close(fd);
	rig_ctl_ok("reset test.spare");
}

/*
 * Which node systemd sees: an attached port's stock node is not ready
 * for it (SYSTEMD_READY=0), and the data node, a device unit, wants what
 * the distro's rules gave the port (qemu-guest-agent's rule, installed
 * on the host, gives org.qemu.guest_agent.0 SYSTEMD_WANTS). Detached by
 * hand, the stock node is ready again, and a change event leaves it
 * detached; attached by hand, it is not ready again.
 */
TEST_F_TIMEOUT(udev, systemd_sees_one_node, 600)
{
	char port[64], node[64];

	settle();
	ASSERT_LE(0, rig_port_path(QGA, port, sizeof(port)));
	ASSERT_EQ(0, expected_node(QGA, node, sizeof(node)));
	EXPECT_EQ(0, rig_sh("udevadm info -q property %s | grep -qx SYSTEMD_READY=0",
			port));
	EXPECT_EQ(0, rig_sh("udevadm info -q property %s | "
			    "grep -q '^TAGS=.*:systemd:'", node));
	EXPECT_EQ(0, rig_sh("udevadm info -q property %s | "
			"grep -qx SYSTEMD_WANTS=qemu-guest-agent.service", node));
	ASSERT_EQ(0, rig_sh(VPORTXCTL " detach " QGA));
	settle();
	EXPECT_NE(0, rig_sh("udevadm info -q property %s | grep -q SYSTEMD_READY=",
			port));
	EXPECT_EQ(0, rig_sh("udevadm trigger --action=change --settle %s", port));
	EXPECT_NE(0, access(node, F_OK));
	ASSERT_EQ(0, rig_sh(VPORTXCTL " attach " QGA " >/dev/null"));
	settle();
	EXPECT_EQ(0, rig_sh("udevadm info -q property %s | grep -qx SYSTEMD_READY=0",
			port));
	EXPECT_EQ(0, access(node, F_OK));
}

/*
 * Exit codes like losetup: 0 success, 1 failure (failed, or not there),
 * 2 usage error. userspace/tests/cli_test.sh checks the usage errors on
 * the build host; these need real ports and nodes.
 */
TEST_F_TIMEOUT(udev, exit_codes, 600)
{
	settle();
	EXPECT_EQ(0, rig_sh(VPORTXCTL " status test.tcp >/dev/null"));
	EXPECT_EQ(0, rig_sh(VPORTXCTL " detach /dev/vportx/test.tcp"));
	EXPECT_EQ(1, rig_sh(VPORTXCTL " detach test.tcp 2>/dev/null"));
	EXPECT_EQ(1, rig_sh(VPORTXCTL " status test.tcp 2>/dev/null"));
	EXPECT_EQ(0, rig_sh(VPORTXCTL " attach test.tcp | grep -q '^/dev/vportx'"));
	EXPECT_EQ(1, rig_sh(VPORTXCTL " attach test.tcp 2>/dev/null"));
	EXPECT_EQ(1, rig_sh(VPORTXCTL " status no.such.port 2>/dev/null"));
	EXPECT_EQ(2, rig_sh(VPORTXCTL " attach --tx-limit 64x test.tcp 2>/dev/null"));
	EXPECT_EQ(2, rig_sh(VPORTXCTL " detach --json test.tcp 2>/dev/null"));
	EXPECT_EQ(0, rig_sh(VPORTXCTL " detach test.tcp --help | "
			"grep -q '^usage: vportxctl detach'"));
	/* Nothing happened: it is still attached. */
	EXPECT_EQ(0, rig_sh(VPORTXCTL " status test.tcp >/dev/null"));
	/* A console port: only opening it tells, so with hold=always. */
	EXPECT_EQ(0, rig_sh(VPORTXCTL " detach vportx.console"));
	EXPECT_EQ(1, rig_sh(VPORTXCTL " attach vportx.console --hold always "
			"2>/dev/null"));
	EXPECT_EQ(0, rig_sh(VPORTXCTL " attach vportx.console >/dev/null"));
	EXPECT_EQ(2, rig_sh(VPORTXCTL " frobnicate 2>/run/vportx-err"));
	EXPECT_EQ(0, rig_sh("grep -qx 'vportxctl: frobnicate: unknown command' "
			"/run/vportx-err"));
	EXPECT_EQ(0, rig_sh(VPORTXCTL " --help | grep -q '^usage: vportxctl'"));
	EXPECT_EQ(0, rig_sh("man -l /usr/local/share/man/man8/vportxctl.8 "
			">/dev/null 2>&1 || test -s "
			"/usr/local/share/man/man8/vportxctl.8"));
}

/* A garbage line: FILE:LINE, and the ports it matches are left alone. */
TEST_F_TIMEOUT(udev, bad_policy_line_changes_nothing, 600)
{
	char node[64];

	settle();
	ASSERT_EQ(0, write_file(POLICY_D "/60-bad.conf",
				"# a typo below\n"
				"test.tcp group=dialout hold=sometimes mode=0666\n"));
	EXPECT_EQ(1, rig_sh(VPORTXCTL " policy >/dev/null 2>/run/vportx-err"));
	EXPECT_EQ(0, rig_sh("grep -q '^" POLICY_D "/60-bad.conf:2: ' "
			"/run/vportx-err"))
		rig_sh("cat /run/vportx-err >&2");
	/* The node keeps its permissions... */
	ASSERT_EQ(0, retrigger_node("test.tcp"));
	ASSERT_EQ(0, expected_node("test.tcp", node, sizeof(node)));
	expect_perms(_metadata, node, 0, 0, 0600);
	/*
	 * ...and a detached port is not attached again, not even when it
	 * is re-added (ACTION=add: change events leave a port detached by
	 * hand alone, whatever the policy).
	 */
	EXPECT_EQ(0, rig_sh(VPORTXCTL " detach test.tcp"));
	EXPECT_EQ(0, rig_sh(VPORTXCTL " udev-port test.tcp"));
	EXPECT_NE(0, access(node, F_OK));
	EXPECT_EQ(1, rig_sh("ACTION=add " VPORTXCTL
			    " udev-port test.tcp 2>/dev/null"));
	EXPECT_NE(0, access(node, F_OK));
	/* Other ports are not affected. */
	EXPECT_EQ(0, retrigger_node("test.unix"));
	EXPECT_EQ(0, access("/dev/vportx/test.unix", F_OK));
	unlink(POLICY_D "/60-bad.conf");
	EXPECT_EQ(0, rig_sh("ACTION=add " VPORTXCTL " udev-port test.tcp"));
	expect_link(_metadata, "test.tcp", "test.tcp");
}

/* After rmmod, udev loads the module itself and attaches again. */
TEST_F_TIMEOUT(udev, modprobe_and_attach_again, 600)
{
	char stock[64];

	settle();
	ASSERT_LE(0, rig_port_path("test.unix", stock, sizeof(stock)));
	EXPECT_EQ(0, rig_sh("modinfo -n vportx | grep -q '/extra/'"));
	ASSERT_EQ(0, rig_sh(VPORTXCTL " detach --all"));
	ASSERT_EQ(0, rig_sh("rmmod vportx"));
	EXPECT_NE(0, access("/dev/vportx-control", F_OK));
	/* With no data node, the compat link is the stock node's again. */
	EXPECT_LE(0, wait_resolves("/dev/virtio-ports/test.unix", stock));
	ASSERT_EQ(0, rig_sh("udevadm trigger --action=add --settle "
			"--subsystem-match=virtio-ports"));
	EXPECT_EQ(0, access("/sys/module/vportx", F_OK));
	expect_link(_metadata, "test.unix", "test.unix");
}

/* make uninstall takes every installed file away again. */
TEST_F_TIMEOUT(udev, uninstall, 600)
{
	const char *repo = getenv("VPORTX_REPO");

	ASSERT_EQ(0, rig_sh("make -C %s uninstall >/run/vportx-uninstall.log 2>&1",
			repo))
		rig_sh("tail -20 /run/vportx-uninstall.log >&2");
	EXPECT_NE(0, access(VPORTXCTL, F_OK));
	EXPECT_NE(0, access("/usr/local/lib/udev/rules.d/60-vportx.rules",
			    F_OK));
	EXPECT_NE(0, access("/usr/local/lib/vportx/policy.conf", F_OK));
	EXPECT_NE(0, rig_sh("modinfo -n vportx >/dev/null 2>&1"));
	unlink(MARK);
}

TEST_HARNESS_MAIN
