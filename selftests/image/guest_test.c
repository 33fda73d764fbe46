// SPDX-License-Identifier: GPL-2.0
/*
 * vportx in a real guest (selftests/image/image-run, second boot): Debian
 * booted by systemd from its own disk, vportx installed from its packages
 * with apt, and the distro's qemu-guest-agent.service, which nothing here
 * starts or configures. After the reboot the agent must run on vportx's
 * node, answer the host as libvirt asks it, and stay there, or come back
 * there, through `systemctl restart`, a detach and an attach, a claim of
 * its device by policy and by hand and its release; 16 MiB go each way
 * through a second port, on both backends. Documentation/guest.rst.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "pattern.h"
#include "xfer.h"
#include "agent.h"

#define QGA "org.qemu.guest_agent.0"
/* The agent's own path: the stock name, led to vportx's node (compat). */
#define QGA_COMPAT "/dev/virtio-ports/" QGA
#define QGA_NODE "/dev/vportx/" QGA
#define QGA_FILE "/run/vportx-qga-file"
#define BULK_NODE "/dev/vportx/org.vportx.bulk"
#define BULK_BYTES (16u << 20)
#define DIRECT_POLICY "/etc/vportx/policy.d/50-direct.conf"
#define VPORTXCTL "/usr/sbin/vportxctl"
#define MOVE_MS 120000

/* What the agent's main process has open of /dev/vport*: "" if nothing. */
static void agent_node(char *node, size_t len)
{
	char path[64], target[PATH_MAX];
	FILE *f;
	long pid = 0;
	int fd;
	ssize_t n;

	*node = '\0';
	f = popen("systemctl show -p MainPID --value qemu-guest-agent", "r");
	if (!f)
		return;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	pclose(f);
	for (fd = 0; pid > 0 && fd < 64; fd++) {
		snprintf(path, sizeof(path), "/proc/%ld/fd/%d", pid, fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (!strncmp(target, "/dev/vport", 10))
			snprintf(node, len, "%s", target);
	}
}

/*
 * Wait until the agent runs with @want open (a path, or "stock" for the
 * stock node of its port) and the compat name leads there too; then show
 * `systemctl status` as TAP comments.
 */
static int wait_agent_on(const char *want)
{
	char node[PATH_MAX], target[PATH_MAX], stock[64];
	int waited;

	for (waited = 0; waited < MOVE_MS; waited += 250) {
		agent_node(node, sizeof(node));
		if (!strcmp(want, "stock") &&
		    rig_port_path(QGA, stock, sizeof(stock)) >= 0)
			want = stock;
		if (*node && realpath(want, target) && !strcmp(node, target) &&
		    realpath(QGA_COMPAT, target) && !strcmp(node, target))
			break;
		usleep(250000);
	}
	rig_sh("systemctl status --no-pager --lines=0 qemu-guest-agent | "
	       "sed 's/^/# /'");
	/* The harness's child exits without flushing stdio. */
	printf("# qemu-guest-agent has %s open, wanted %s\n", node, want);
	fflush(stdout);
	return waited < MOVE_MS ? 0 : -ETIMEDOUT;
}

/* The host sees the agent's port open (VSERPORT_CHANGE), then talks. */
static void converse(struct __test_metadata *_metadata)
{
	char reply[RIG_REPLY_MAX] = "";
	int waited;

	for (waited = 0; waited < MOVE_MS; waited += 250) {
		if (!rig_ctl(reply, sizeof(reply), "vserport qga") &&
		    !strcmp(reply, "open=1"))
			break;
		usleep(250000);
	}
	ASSERT_STREQ("open=1", reply);
	ASSERT_EQ(0, rig_ctl_ok("reset qga"));
	qga_converse(_metadata, QGA_FILE);
}

/* Wait until the node @link leads to has backend @backend. */
static int wait_backend(const char *link, const char *backend)
{
	char buf[32] = "";
	int waited;

	for (waited = 0; waited < MOVE_MS; waited += 250) {
		if (!rig_link_attr(link, "backend", buf, sizeof(buf)) &&
		    !strcmp(buf, backend))
			return 0;
		usleep(250000);
	}
	return -ETIMEDOUT;
}

/* The N of virtioN, the device the node @link leads to is on. */
static int node_device(const char *link)
{
	char node[PATH_MAX], path[PATH_MAX + 64], dev[PATH_MAX];
	unsigned int n;

	if (!realpath(link, node))
		return -errno;
	snprintf(path, sizeof(path), "/sys/class/vportx/%s/device",
		 strrchr(node, '/') + 1);
	if (!realpath(path, dev) ||
	    sscanf(strrchr(dev, '/'), "/virtio%u", &n) != 1)
		return -ENODEV;
	return n;
}

/* 16 MiB each way through the bulk port's node, on @backend. */
static void bulk_both_ways(struct __test_metadata *_metadata,
			   const char *backend, uint64_t seed)
{
	int fd;

	ASSERT_EQ(0, wait_backend(BULK_NODE, backend));
	fd = open(BULK_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", BULK_NODE, strerror(errno));
	ASSERT_EQ(0, rig_wait_host(fd, 10000));
	rig_from_host(_metadata, fd, "bulk", seed, BULK_BYTES, 65536);
	rig_to_host(_metadata, fd, "bulk", seed + 1, BULK_BYTES, 65536);
	close(fd);
	ASSERT_EQ(0, rig_ctl_ok("reset bulk"));
}

FIXTURE(guest) {
	/* Nothing: each test starts from the system as the last one left it. */
	int unused;
};

FIXTURE_SETUP(guest)
{
	rig_sh("udevadm settle --timeout=120");
}

FIXTURE_TEARDOWN(guest)
{
}

/* The module DKMS built came up with the boot, nobody loaded it. */
TEST_F_TIMEOUT(guest, module_autoloaded_from_dkms, 600)
{
	EXPECT_EQ(0, access("/sys/module/vportx", F_OK));
	EXPECT_EQ(0, rig_sh("modinfo -n vportx | grep -q /updates/dkms/"));
	EXPECT_EQ(0, rig_sh("dkms status vportx | "
			    "grep -q \"$(uname -r).*installed\""));
}

/*
 * udev attached the ports and named them per policy; the agent's stock
 * name leads to vportx's node, the rig's own ports stay stock.
 */
TEST_F_TIMEOUT(guest, ports_named_at_boot, 600)
{
	char a[PATH_MAX], b[PATH_MAX], stock[64];

	ASSERT_NE(NULL, realpath(QGA_NODE, a));
	ASSERT_NE(NULL, realpath(QGA_COMPAT, b));
	EXPECT_STREQ(a, b);
	EXPECT_EQ(0, strncmp(a, "/dev/vportx", 11));
	EXPECT_EQ(0, wait_backend(BULK_NODE, "stacked"));
	ASSERT_LE(0, rig_port_path("vportx.ctl", stock, sizeof(stock)));
	ASSERT_NE(NULL, realpath("/dev/virtio-ports/vportx.ctl", a));
	EXPECT_STREQ(stock, a);
}

/*
 * systemd started the agent on vportx's node, not on the stock node
 * first: once this boot, it never restarted, and never met EBUSY.
 */
TEST_F_TIMEOUT(guest, agent_started_on_vportx, 600)
{
	ASSERT_EQ(0, wait_agent_on(QGA_NODE));
	EXPECT_EQ(0, rig_sh("test \"$(journalctl -b -u qemu-guest-agent | "
			    "grep -c 'Started qemu-guest-agent')\" = 1"));
	EXPECT_EQ(0, rig_sh("test \"$(systemctl show -p NRestarts --value "
			    "qemu-guest-agent)\" = 0"));
	EXPECT_NE(0, rig_sh("journalctl -b -u qemu-guest-agent | "
			    "grep -i -e busy -e 'not found'"));
	converse(_metadata);
}

/* fsfreeze through the agent: every file system frozen, then thawed. */
TEST_F_TIMEOUT(guest, agent_fsfreeze, 600)
{
	char *answer = malloc(QGA_ANSWER_MAX);

	ASSERT_NE(NULL, answer);
	converse(_metadata);
	qga_ask(_metadata, "{\"execute\":\"guest-fsfreeze-freeze\"}",
		"\"return\": ", answer);
	EXPECT_EQ(NULL, strstr(answer, "\"return\": 0")) TH_LOG("%s", answer);
	qga_ask(_metadata, "{\"execute\":\"guest-fsfreeze-status\"}",
		"\"return\": \"frozen\"", answer);
	qga_ask(_metadata, "{\"execute\":\"guest-fsfreeze-thaw\"}",
		"\"return\": ", answer);
	qga_ask(_metadata, "{\"execute\":\"guest-fsfreeze-status\"}",
		"\"return\": \"thawed\"", answer);
	free(answer);
}

TEST_F_TIMEOUT(guest, bulk_stacked, 900)
{
	bulk_both_ways(_metadata, "stacked", 2500);
}

TEST_F_TIMEOUT(guest, agent_survives_restart, 600)
{
	ASSERT_EQ(0, rig_sh("systemctl restart qemu-guest-agent"));
	ASSERT_EQ(0, wait_agent_on(QGA_NODE));
	converse(_metadata);
}

/*
 * Detached by hand, the port is the stock node's again and the agent
 * follows it there; attached by hand, back on vportx's node.
 */
TEST_F_TIMEOUT(guest, agent_survives_detach_attach, 600)
{
	ASSERT_EQ(0, rig_sh(VPORTXCTL " detach " QGA));
	ASSERT_EQ(0, wait_agent_on("stock"));
	converse(_metadata);
	ASSERT_EQ(0, rig_sh(VPORTXCTL " attach " QGA " >/dev/null"));
	ASSERT_EQ(0, wait_agent_on(QGA_NODE));
	converse(_metadata);
}

/*
 * A policy that hands the agent's device to the direct backend, as an
 * admin adds one to a running system: udev claims the device, the agent
 * moves to its direct node, and the bulk port there moves 16 MiB each way.
 */
TEST_F_TIMEOUT(guest, policy_claims_device, 900)
{
	char stock[64];

	ASSERT_LE(0, rig_port_path(QGA, stock, sizeof(stock)));
	ASSERT_EQ(0, rig_sh("echo '" QGA " backend=direct' >" DIRECT_POLICY));
	ASSERT_EQ(0, rig_sh("udevadm trigger --action=change --settle %s",
			    stock));
	ASSERT_EQ(0, wait_backend(QGA_NODE, "direct"));
	ASSERT_EQ(0, wait_agent_on(QGA_NODE));
	converse(_metadata);
	bulk_both_ways(_metadata, "direct", 2600);
}

/*
 * Released by hand, then claimed and released by hand again: stacked,
 * direct, stacked, the agent on vportx's node each time.
 */
TEST_F_TIMEOUT(guest, agent_survives_claim_release, 900)
{
	int dev = node_device(QGA_NODE);

	ASSERT_LE(0, dev);
	ASSERT_EQ(0, rig_sh(VPORTXCTL " release virtio%d", dev));
	ASSERT_EQ(0, wait_backend(QGA_NODE, "stacked"));
	ASSERT_EQ(0, wait_agent_on(QGA_NODE));
	converse(_metadata);
	ASSERT_EQ(0, rig_sh(VPORTXCTL " claim virtio%d", dev));
	ASSERT_EQ(0, wait_backend(QGA_NODE, "direct"));
	ASSERT_EQ(0, wait_agent_on(QGA_NODE));
	converse(_metadata);
	ASSERT_EQ(0, rig_sh(VPORTXCTL " release virtio%d", dev));
	ASSERT_EQ(0, wait_backend(QGA_NODE, "stacked"));
	ASSERT_EQ(0, wait_agent_on(QGA_NODE));
	converse(_metadata);
	unlink(DIRECT_POLICY);
}

/* After all that the agent runs, and never hit EBUSY on the way. */
TEST_F_TIMEOUT(guest, agent_never_left_stopped, 600)
{
	EXPECT_EQ(0, rig_sh("systemctl is-active -q qemu-guest-agent"));
	EXPECT_NE(0, rig_sh("journalctl -b -u qemu-guest-agent | grep -i busy"));
	rig_sh("journalctl -b --no-pager -u qemu-guest-agent | tail -n 30 | "
	       "sed 's/^/# /'");
}

TEST_HARNESS_MAIN
