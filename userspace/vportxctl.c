// SPDX-License-Identifier: GPL-2.0
/*
 * vportxctl: attach virtio-serial ports to vportx, detach them, list and
 * describe the data nodes, and the two entry points udev runs
 * (udev/60-vportx.rules): udev-port attaches a port per policy, udev-node
 * names a data node and gives it its owner, group and mode.
 *
 * Exit codes like losetup's (vportxctl.h): 0 done, also when there was
 * nothing to list or to do; 1 failed, or what the command names is not
 * there; 2 a usage error. Errors: "vportxctl: what: why"; usage errors
 * add a line saying where the help is. Every command takes -h/--help;
 * the listings (list, status, ports, policy) take -J/--json.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/vportx.h>

#include "policy.h"
#include "vportxctl.h"

#ifndef VPORTX_VERSION
#error "VPORTX_VERSION comes from kmod/version.h: build with the Makefile"
#endif
#define VPORTX_RUN_DIR "/run/vportx"
/*
 * What vportxctl remembers until the next boot, a file per device or port:
 * released/virtioN   released by hand: udev leaves it to virtio_console
 * detached/vportNpM  detached by hand: udev leaves it to the stock node
 * failed/vportNpM    udev's attach failed: systemd gets the stock node
 * wants/NAME         the SYSTEMD_WANTS the distro's rules gave the port
 *                    named NAME, for its node (udev-node)
 */
#define VPORTX_RELEASED_DIR "released"
#define VPORTX_DETACHED_DIR "detached"
#define VPORTX_FAILED_DIR "failed"
#define VPORTX_WANTS_DIR "wants"

/*
 * policy.h keeps its own copy of the UAPI's values, so that the parser
 * builds (tests, fuzzer) without <linux/vportx.h>: here they must agree.
 */
#define SAME(a, b) _Static_assert((a) == (b), #a " differs from " #b)
#define WITHIN(v, min, max) \
	_Static_assert((v) >= (min) && (v) <= (max), \
		       #v " is outside " #min ".." #max)

SAME(VPORTX_POLICY_BACKEND_STACKED, VPORTX_BACKEND_STACKED);
SAME(VPORTX_POLICY_BACKEND_DIRECT, VPORTX_BACKEND_DIRECT);
SAME(VPORTX_POLICY_HOLD_OPEN, VPORTX_HOLD_OPEN);
SAME(VPORTX_POLICY_HOLD_ALWAYS, VPORTX_HOLD_ALWAYS);
SAME(VPORTX_POLICY_TX_LIMIT_MIN, VPORTX_TX_LIMIT_MIN);
SAME(VPORTX_POLICY_TX_LIMIT_MAX, VPORTX_TX_LIMIT_MAX);
/* tx_low stays below the largest tx_limit. */
SAME(VPORTX_POLICY_TX_LOW_MAX, VPORTX_TX_LIMIT_MAX - 1);
SAME(VPORTX_POLICY_RX_BUDGET_MIN, VPORTX_RX_BUDGET_MIN);
SAME(VPORTX_POLICY_RX_BUDGET_MAX, VPORTX_RX_BUDGET_MAX);
/* The sizes go into the UAPI's __u32 fields as they are. */
WITHIN(VPORTX_POLICY_TX_LIMIT_MAX, 0, UINT32_MAX);
WITHIN(VPORTX_POLICY_RX_BUDGET_MAX, 0, UINT32_MAX);
SAME(sizeof(((struct vportx_attach *)0)->tx_limit), sizeof(__u32));
SAME(sizeof(((struct vportx_attach *)0)->tx_low), sizeof(__u32));
SAME(sizeof(((struct vportx_claim *)0)->tx_limit), sizeof(__u32));
SAME(sizeof(((struct vportx_claim *)0)->rx_budget), sizeof(__u32));
/* The defaults apply_direct() writes are in the policy's ranges. */
WITHIN(VPORTX_TX_LIMIT_DEFAULT, VPORTX_POLICY_TX_LIMIT_MIN,
	VPORTX_POLICY_TX_LIMIT_MAX);
WITHIN(VPORTX_RX_BUDGET_DEFAULT, VPORTX_POLICY_RX_BUDGET_MIN,
	VPORTX_POLICY_RX_BUDGET_MAX);

struct command;

/**
 * struct ctx - what a command is run with
 * @udev:	libudev's context
 * @root:	the policy files are under here; "" for /
 * @cmd:	the command
 * @json:	-J/--json: print JSON (the listings only)
 * @all:	detach --all
 * @opt:	attach's --hold, --tx-limit and --tx-low; -1 where not given
 */
struct ctx {
	struct udev *udev;
	const char *root;
	const struct command *cmd;
	bool json;
	bool all;
	struct vportx_settings opt;
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "vportxctl: %s: %s\n", what, strerror(err));
	return EXIT_FAILURE;
}

static int fail_msg(const char *what, const char *why)
{
	fprintf(stderr, "vportxctl: %s: %s\n", what, why);
	return EXIT_FAILURE;
}

static const char *cmd_name(const struct ctx *c);

/* A wrong command line: what is wrong, and where the help is. */
static int usage_error(const struct ctx *c, const char *what,
		       const char *why)
{
	const char *name = cmd_name(c);

	fprintf(stderr, "vportxctl: %s: %s\n", what, why);
	fprintf(stderr, "Try 'vportxctl%s%s --help' for more information.\n",
		*name ? " " : "", name);
	return EXIT_USAGE;
}

/*
 * The policy files, read; NULL (reported) when out of memory. Errors in
 * lines are reported, not fatal: they only matter to the ports they match.
 */
static struct vportx_policy *policy_load(struct ctx *c)
{
	struct vportx_policy *p = vportx_policy_new();

	if (!p) {
		fail("policy", ENOMEM);
		return NULL;
	}
	vportx_policy_load(p, c->root, stderr);
	return p;
}

/* The settings @p gives the port named @name; EXIT_FAILURE if broken. */
static int policy_lookup(const struct vportx_policy *p, const char *name,
			 struct vportx_settings *s)
{
	vportx_policy_lookup(p, name, s);
	if (s->broken)
		return fail_msg("policy", s->why);
	return 0;
}

/* The settings policy gives the port named @name; EXIT_FAILURE if broken. */
static int policy_for(struct ctx *c, const char *name,
		      struct vportx_settings *s)
{
	struct vportx_policy *p = policy_load(c);
	int ret;

	if (!p)
		return EXIT_FAILURE;
	ret = policy_lookup(p, name, s);
	vportx_policy_free(p);
	return ret;
}

static int control_ioctl(unsigned long cmd, void *arg)
{
	int ctl = open(VPORTX_CONTROL, O_RDWR | O_CLOEXEC);
	int ret;

	if (ctl < 0)
		return -errno;
	ret = ioctl(ctl, cmd, arg) ? -errno : 0;
	close(ctl);
	return ret;
}

/* ATTACH the port @port with settings @s; the node's path on stdout. */
static int attach_port(struct udev_device *port,
		       const struct vportx_settings *s, bool quiet)
{
	const char *devnode = udev_device_get_devnode(port);
	const char *sysname = udev_device_get_sysname(port);
	struct vportx_attach a = { 0 };
	int fd, ret;

	/*
	 * O_PATH: opening the stock port would tell the host it is open, and
	 * closing it would drop whatever the host sent meanwhile. vportx
	 * opens the port itself when the hold policy says.
	 */
	fd = devnode ? open(devnode, O_PATH | O_CLOEXEC) : -1;
	if (fd < 0)
		return fail(sysname, devnode ? errno : ENODEV);
	a.fd = fd;
	a.hold = s->hold > 0 ? VPORTX_HOLD_ALWAYS : VPORTX_HOLD_OPEN;
	a.tx_limit = s->tx_limit > 0 ? s->tx_limit : 0;
	a.tx_low = s->tx_low > 0 ? s->tx_low : 0;
	ret = control_ioctl(VPORTX_IOC_ATTACH, &a);
	close(fd);
	/* virtio_console keeps its console ports: opening one says ENXIO. */
	if (ret == -ENXIO) {
		fprintf(stderr, "vportxctl: %s: a console port, not attached\n",
			sysname);
		return EXIT_FAILURE;
	}
	if (ret)
		return fail(sysname, -ret);
	if (!quiet)
		printf("/dev/vportx%up%u\n", a.port_dev, a.port_nr);
	return EXIT_SUCCESS;
}

/* Detach @node; one that went meanwhile is a success if @gone_ok. */
static int detach_node(struct udev_device *node, bool gone_ok)
{
	struct vportx_detach d = { 0 };
	dev_t devnum = udev_device_get_devnum(node);
	int ret;

	d.minor = minor(devnum);
	ret = control_ioctl(VPORTX_IOC_DETACH, &d);
	if (ret == -ENXIO)
		return gone_ok ? EXIT_SUCCESS :
		       fail_msg(udev_device_get_sysname(node), "not attached");
	if (ret == -EOPNOTSUPP)
		return fail_msg(udev_device_get_sysname(node),
				"a port of a claimed device: release the device");
	/* Closed, yet busy: closing its port would drop what it received. */
	if (ret == -EBUSY && !strcmp(vx_attr(node, "open"), "0"))
		return fail_msg(udev_device_get_sysname(node),
				"its port has bytes nobody read");
	return ret ? fail(udev_device_get_sysname(node), -ret) : EXIT_SUCCESS;
}

/* DEVICE is virtioN or N: the N, or -1. */
static long long device_index(const char *spec)
{
	const char *p = spec;
	char *end;
	long long n;

	if (!strncmp(p, "virtio", 6))
		p += 6;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	n = strtoll(p, &end, 10);
	if (errno || *end || n > UINT32_MAX)
		return -1;
	return n;
}

/* Tell udev to look at @dev again: a node's name, a port's readiness. */
static void dev_changed(struct udev_device *dev)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/uevent",
		 udev_device_get_syspath(dev));
	f = fopen(path, "we");
	if (f) {
		fputs("change", f);
		fclose(f);
	}
}

/* The index N of the virtio device virtioN @port is on, or -1. */
static long long port_device(struct udev_device *port)
{
	struct udev_device *vdev;

	vdev = udev_device_get_parent_with_subsystem_devtype(port, "virtio",
							     NULL);
	return vdev ? device_index(udev_device_get_sysname(vdev)) : -1;
}

/* Mark @name in @dir under VPORTX_RUN_DIR, holding @text. */
static void mark_set(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), VPORTX_RUN_DIR "/%s", dir);
	mkdir(VPORTX_RUN_DIR, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), VPORTX_RUN_DIR "/%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f || fputs(text, f) < 0 || fclose(f))
		fprintf(stderr, "vportxctl: %s: %s (udev may not know)\n", path,
			strerror(errno));
}

static void mark_clear(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), VPORTX_RUN_DIR "/%s/%s", dir, name);
	unlink(path);
}

/* Whether @name is marked in @dir; its text in @buf if not NULL. */
static bool mark_read(const char *dir, const char *name, char *buf,
		      size_t len)
{
	char path[PATH_MAX];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), VPORTX_RUN_DIR "/%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (buf) {
		n = fread(buf, 1, len - 1, f);
		buf[n] = '\0';
	}
	fclose(f);
	return true;
}

/*
 * A device released by hand stays with virtio_console until it is claimed
 * by hand again, whatever the policy says: udev-port reads this mark.
 */
static void released_mark(long long index, bool set)
{
	char name[32];

	snprintf(name, sizeof(name), "virtio%lld", index);
	if (set)
		mark_set(VPORTX_RELEASED_DIR, name, "");
	else
		mark_clear(VPORTX_RELEASED_DIR, name);
}

static bool released_marked(long long index)
{
	char name[32];

	snprintf(name, sizeof(name), "virtio%lld", index);
	return mark_read(VPORTX_RELEASED_DIR, name, NULL, 0);
}

/*
 * Attach @port by hand: the services on its stock node are stopped first
 * and started again on the new node (services.c). Udev is told the port
 * is served by vportx now, and no longer detached or failed.
 */
static int attach_moving(struct udev_device *port,
			 const struct vportx_settings *s)
{
	const char *sysname = udev_device_get_sysname(port);
	struct vx_units u = { 0 };
	int ret;

	vx_holders(udev_device_get_devnum(port), &u);
	if (vx_units_stop(&u)) {
		vx_units_free(&u);
		return fail_msg(sysname, "the services on its stock node did not stop");
	}
	ret = attach_port(port, s, false);
	if (!ret) {
		mark_clear(VPORTX_DETACHED_DIR, sysname);
		mark_clear(VPORTX_FAILED_DIR, sysname);
		dev_changed(port);
	}
	/* Also after a failure: back on the stock node. */
	vx_units_start(&u);
	vx_units_free(&u);
	return ret;
}

/* attach PORT: the policy's settings for the port, options on top. */
static int cmd_attach(struct ctx *c, int argc, char **argv)
{
	struct vportx_settings s;
	struct udev_device *port;
	int ret;

	(void)argc;
	port = vx_port_find(c->udev, argv[0]);
	if (!port)
		return errno == ENOENT ? fail_msg(argv[0], "no such port") :
		       fail(argv[0], errno);
	ret = policy_for(c, vx_port_name(port), &s);
	if (!ret) {
		if (c->opt.hold >= 0)
			s.hold = c->opt.hold;
		if (c->opt.tx_limit >= 0)
			s.tx_limit = c->opt.tx_limit;
		if (c->opt.tx_low >= 0)
			s.tx_low = c->opt.tx_low;
		ret = attach_moving(port, &s);
	}
	udev_device_unref(port);
	return ret;
}

/*
 * Detach stacked @node by hand: the services on it are stopped first and
 * started again on the stock node, which udev is told serves the port
 * again, until it is attached by hand (the detached mark).
 */
static int detach_by_hand(struct ctx *c, struct udev_device *node,
			  bool gone_ok)
{
	struct udev_device *port = NULL;
	struct vx_units u = { 0 };
	int ret;

	if (strcmp(vx_attr(node, "backend"), "direct")) {
		port = vx_port_of_node(c->udev, node);
		vx_holders(udev_device_get_devnum(node), &u);
	}
	if (vx_units_stop(&u)) {
		ret = fail_msg(udev_device_get_sysname(node),
			       "the services on it did not stop");
		goto out_free;
	}
	ret = detach_node(node, gone_ok);
	if (!ret && port) {
		mark_set(VPORTX_DETACHED_DIR, udev_device_get_sysname(port), "");
		dev_changed(port);
	}
	vx_units_start(&u);
out_free:
	vx_units_free(&u);
	udev_device_unref(port);
	return ret;
}

/*
 * Every stacked node: a success when none is left (none was there, like
 * losetup -D), a failure when one stays (it is open, say).
 */
static int detach_all(struct ctx *c)
{
	struct udev_device **nodes = vx_devices(c->udev, "vportx");
	int ret = EXIT_SUCCESS;
	size_t i;

	if (!nodes)
		return fail("detach", errno);
	for (i = 0; nodes[i]; i++) {
		/* A claimed device's nodes go with it: `release` does that. */
		if (!strcmp(vx_attr(nodes[i], "backend"), "direct"))
			continue;
		if (detach_by_hand(c, nodes[i], true))
			ret = EXIT_FAILURE;
	}
	vx_devices_free(nodes);
	return ret;
}

/*
 * The node @spec names, or NULL with EXIT_FAILURE in *@ret, reported: a
 * port that is not attached, or anything that is not a port at all.
 */
static struct udev_device *attached_node(struct ctx *c, const char *spec,
					 int *ret)
{
	struct udev_device *node = vx_node_find(c->udev, spec);

	if (node)
		return node;
	if (errno == ENODEV)
		*ret = fail_msg(spec, "no such port or node");
	else if (errno != ENOENT)
		*ret = fail(spec, errno);
	else
		*ret = fail_msg(spec, "not attached");
	return NULL;
}

/* detach NODE | --all */
static int cmd_detach(struct ctx *c, int argc, char **argv)
{
	struct udev_device *node;
	int ret;

	if (c->all && argc)
		return usage_error(c, "detach", "NODE or --all, not both");
	if (c->all)
		return detach_all(c);
	if (argc != 1)
		return usage_error(c, "detach", "NODE or --all please");
	node = attached_node(c, argv[0], &ret);
	if (!node)
		return ret;
	ret = detach_by_hand(c, node, false);
	udev_device_unref(node);
	return ret;
}

/* Whether a stacked node of a port of device @index is open. */
static bool device_busy(struct ctx *c, struct udev_device **ports,
			long long index)
{
	struct udev_device *node;
	bool busy = false;
	size_t i;

	for (i = 0; ports[i] && !busy; i++) {
		if (port_device(ports[i]) != index)
			continue;
		node = vx_node_of_port(c->udev, ports[i]);
		busy = node && strcmp(vx_attr(node, "open"), "0");
		udev_device_unref(node);
	}
	return busy;
}

/* Detach the stacked nodes of device @index's ports: a claim needs that. */
static void detach_device(struct ctx *c, struct udev_device **ports,
			  long long index)
{
	struct udev_device *node;
	size_t i;

	for (i = 0; ports[i]; i++) {
		if (port_device(ports[i]) != index)
			continue;
		node = vx_node_of_port(c->udev, ports[i]);
		if (node)
			detach_node(node, true);
		udev_device_unref(node);
	}
}

/*
 * The services holding a node of device @index: for a claim its stock
 * ports and their stacked nodes, for a release its direct nodes.
 */
static void device_holders(struct ctx *c, long long index, bool claim,
			   struct vx_units *u)
{
	struct udev_device **devs, *node;
	size_t i, n = 0;
	dev_t *rdevs;

	devs = vx_devices(c->udev, claim ? "virtio-ports" : "vportx");
	for (i = 0; devs && devs[i]; i++)
		;
	rdevs = calloc(2 * i + 1, sizeof(*rdevs));
	for (i = 0; rdevs && devs && devs[i]; i++) {
		if (port_device(devs[i]) != index)
			continue;
		rdevs[n++] = udev_device_get_devnum(devs[i]);
		node = claim ? vx_node_of_port(c->udev, devs[i]) : NULL;
		if (node)
			rdevs[n++] = udev_device_get_devnum(node);
		udev_device_unref(node);
	}
	vx_holders_of(rdevs, n, u);
	free(rdevs);
	vx_devices_free(devs);
}

/*
 * CLAIM device @index, its ports' stacked nodes detached first, as the
 * policy's claim does; none is if one of them is open (EBUSY).
 */
static int claim_detaching(struct ctx *c, long long index,
			   struct vportx_claim *cl)
{
	struct udev_device **ports = vx_devices(c->udev, "virtio-ports");
	int ret = -EBUSY;

	if (!ports)
		return -errno;
	if (!device_busy(c, ports, index)) {
		detach_device(c, ports, index);
		ret = control_ioctl(VPORTX_IOC_CLAIM, cl);
	}
	vx_devices_free(ports);
	return ret;
}

/*
 * claim DEVICE / release DEVICE: hand a virtio-console device over, the
 * services on its nodes stopped first and started on the new ones.
 */
static int claim_device(struct ctx *c, const char *dev, bool claim)
{
	struct vportx_release rel = { 0 };
	struct vportx_claim cl = { 0 };
	struct vx_units u = { 0 };
	long long index;
	int ret;

	index = device_index(dev);
	if (index < 0)
		return usage_error(c, dev, "not a virtio device (virtioN or N)");
	cl.index = index;
	rel.index = index;
	device_holders(c, index, claim, &u);
	if (vx_units_stop(&u)) {
		vx_units_free(&u);
		return fail_msg(dev, "the services on its nodes did not stop");
	}
	ret = claim ? claim_detaching(c, index, &cl) :
		      control_ioctl(VPORTX_IOC_RELEASE, &rel);
	if (!ret)
		released_mark(index, !claim);
	vx_units_start(&u);
	vx_units_free(&u);
	if (ret == -ENXIO && !claim)
		return fail_msg(dev, "not claimed");
	if (ret == -EBUSY && !claim)
		return fail_msg(dev, "a closed node has bytes nobody read");
	return ret ? fail(dev, -ret) : EXIT_SUCCESS;
}

static int cmd_claim(struct ctx *c, int argc, char **argv)
{
	(void)argc;
	return claim_device(c, argv[0], true);
}

static int cmd_release(struct ctx *c, int argc, char **argv)
{
	(void)argc;
	return claim_device(c, argv[0], false);
}

/* What status and list show of a node, in this order, if the node has it. */
static const char *const node_attrs[] = {
	"backend", "hold", "open", "host_connected", "unplugged", "tx_limit",
	"tx_low", "tx_queued", "tx_pages", "tx_pushes", "stalls", "tx_dropped",
	"tx_drain_ms", "tx_coalesce_us", "rx_budget", "rx_queued", "rx_bytes",
	"tx_bytes",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static bool numeric_attr(const char *attr)
{
	return strcmp(attr, "backend") && strcmp(attr, "hold") &&
	       strcmp(attr, "host_connected");
}

/* @attr of @node, NULL if the node has no such attribute. */
static const char *node_attr(struct udev_device *node, const char *attr)
{
	return udev_device_get_sysattr_value(node, attr);
}

/* The links udev gives @node: /dev/vportx/NAME and /dev/vportx/by-path/. */
static void node_links(struct udev_device *port, char *link, char *bypath,
		       size_t len)
{
	char buf[256];

	link[0] = '\0';
	bypath[0] = '\0';
	if (port && vx_link_name(vx_port_name(port), buf, sizeof(buf)))
		snprintf(link, len, "/dev/" VPORTX_LINK_DIR "/%s", buf);
	if (port && vx_bypath_name(port, buf, sizeof(buf)))
		snprintf(bypath, len, "/dev/" VPORTX_LINK_DIR "/%s", buf);
}

/* ", KEY: " of a JSON object's member after the first. */
static void json_key(const char *key)
{
	fputs(", ", stdout);
	json_string(stdout, key);
	fputs(": ", stdout);
}

/* A string member, null when empty. */
static void json_str_field(const char *key, const char *val)
{
	json_key(key);
	if (val && *val)
		json_string(stdout, val);
	else
		fputs("null", stdout);
}

static void json_field(const char *key, const char *val, bool number)
{
	if (number) {
		json_key(key);
		json_number(stdout, val);
	} else {
		json_str_field(key, val);
	}
}

/*
 * A node as a JSON object: its links, then the attributes of node_attrs
 * it has (sysfs numbers as numbers), host_connected as true, false or
 * null (unknown while the port is closed).
 */
static void node_json(struct ctx *c, struct udev_device *node)
{
	struct udev_device *port = vx_port_of_node(c->udev, node);
	char link[300], bypath[300];
	const char *host = vx_attr(node, "host_connected"), *v;
	size_t i;

	node_links(port, link, bypath, sizeof(link));
	printf("{\"node\": ");
	json_string(stdout, udev_device_get_devnode(node) ?: "");
	json_field("source", vx_attr(node, "source"), false);
	json_field("name", port ? vx_port_name(port) : "", false);
	json_field("link", link, false);
	json_field("by_path", bypath, false);
	for (i = 0; i < ARRAY_SIZE(node_attrs); i++) {
		v = node_attr(node, node_attrs[i]);
		if (v && strcmp(node_attrs[i], "host_connected"))
			json_field(node_attrs[i], v,
				   numeric_attr(node_attrs[i]));
	}
	printf(", \"host_connected\": %s}", !strcmp(host, "1") ? "true" :
	       !strcmp(host, "0") ? "false" : "null");
	udev_device_unref(port);
}

static void node_text(struct ctx *c, struct udev_device *node)
{
	struct udev_device *port = vx_port_of_node(c->udev, node);
	char link[300], bypath[300];
	const char *v;
	size_t i;

	node_links(port, link, bypath, sizeof(link));
	printf("node: %s\nsource: %s\nname: %s\nlink: %s\nby_path: %s\n",
	       udev_device_get_devnode(node) ?: "-", vx_attr(node, "source"),
	       port ? vx_port_name(port) : "", link, bypath);
	for (i = 0; i < ARRAY_SIZE(node_attrs); i++) {
		v = node_attr(node, node_attrs[i]);
		if (v)
			printf("%s: %s\n", node_attrs[i], v);
	}
	udev_device_unref(port);
}

/* status NODE: one node, in full. */
static int cmd_status(struct ctx *c, int argc, char **argv)
{
	struct udev_device *node;
	int ret;

	(void)argc;
	node = attached_node(c, argv[0], &ret);
	if (!node)
		return ret;
	if (c->json) {
		node_json(c, node);
		putchar('\n');
	} else {
		node_text(c, node);
	}
	udev_device_unref(node);
	return EXIT_SUCCESS;
}

/**
 * struct table - a text listing, as losetup prints one
 * @cols:	the number of columns
 * @head:	their headings
 * @right:	bit N set: column N holds numbers, aligned right
 * @cells:	the rows' cells, row after row, each allocated
 * @rows:	the number of rows
 * @cap:	how many rows @cells has room for
 *
 * Each column is as wide as its widest cell; the last is not padded.
 * Bytes that could upset a terminal (port names come from the host) are
 * shown as '?'.
 */
struct table {
	size_t cols;
	const char *const *head;
	unsigned int right;
	char **cells;
	size_t rows, cap;
};

/* Add a row of t->cols cells ("" or NULL shown as "-"); 0 or -ENOMEM. */
static int table_add(struct table *t, const char *const *row)
{
	size_t i, n = t->rows * t->cols;
	char **cells;

	if (t->rows == t->cap) {
		cells = reallocarray(t->cells, (t->cap + 16) * t->cols,
				     sizeof(*cells));
		if (!cells)
			return -ENOMEM;
		t->cells = cells;
		t->cap += 16;
	}
	for (i = 0; i < t->cols; i++) {
		t->cells[n + i] = strdup(row[i] && *row[i] ? row[i] : "-");
		if (!t->cells[n + i]) {
			while (i--)
				free(t->cells[n + i]);
			return -ENOMEM;
		}
	}
	t->rows++;
	return 0;
}

/* Characters @s takes on a terminal: its UTF-8 sequences count one. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void table_cell(const struct table *t, size_t col, const char *s,
		       size_t w)
{
	size_t pad = w - width(s);
	bool last = col + 1 == t->cols;

	if (col)
		putchar(' ');
	if (t->right & 1U << col)
		printf("%*s", (int)pad, "");
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	if (!(t->right & 1U << col) && !last)
		printf("%*s", (int)pad, "");
}

/* Print @t, headings first, nothing at all without rows; free it. */
static void table_print(struct table *t)
{
	size_t r, i, w[16] = { 0 };

	for (i = 0; i < t->cols && t->rows; i++) {
		w[i] = width(t->head[i]);
		for (r = 0; r < t->rows; r++)
			if (width(t->cells[r * t->cols + i]) > w[i])
				w[i] = width(t->cells[r * t->cols + i]);
	}
	for (r = 0; t->rows && r <= t->rows; r++) {
		for (i = 0; i < t->cols; i++)
			table_cell(t, i, r ? t->cells[(r - 1) * t->cols + i] :
				   t->head[i], w[i]);
		putchar('\n');
	}
	for (i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
}

static const char *const list_head[] = {
	"NODE", "SOURCE", "BACKEND", "HOLD", "OPEN", "HOST", "TX_QUEUED",
	"RX_QUEUED", "RX_BUDGET", "TX_COALESCE_US", "NAME",
};

/* A node's row of `list`; "-" for what it does not have. */
static int list_row(struct ctx *c, struct table *t, struct udev_device *node)
{
	struct udev_device *port = vx_port_of_node(c->udev, node);
	const char *const row[] = {
		udev_device_get_devnode(node), vx_attr(node, "source"),
		vx_attr(node, "backend"), vx_attr(node, "hold"),
		vx_attr(node, "open"), vx_attr(node, "host_connected"),
		vx_attr(node, "tx_queued"), vx_attr(node, "rx_queued"),
		vx_attr(node, "rx_budget"), vx_attr(node, "tx_coalesce_us"),
		port ? vx_port_name(port) : "",
	};
	int ret = table_add(t, row);

	udev_device_unref(port);
	return ret;
}

/*
 * list: every node, one line each, or a JSON array of what status --json
 * prints. No node is not an error: nothing (or []) and exit 0.
 */
static int cmd_list(struct ctx *c, int argc, char **argv)
{
	struct table t = { .cols = ARRAY_SIZE(list_head), .head = list_head,
			   .right = 0x3d0 };
	struct udev_device **nodes;
	int ret = 0;
	size_t i;

	(void)argc;
	(void)argv;
	_Static_assert(ARRAY_SIZE(list_head) <= 16, "struct table's width");
	nodes = vx_devices(c->udev, "vportx");
	if (!nodes)
		return fail("list", errno);
	if (c->json)
		putchar('[');
	for (i = 0; nodes[i] && !ret; i++) {
		if (c->json) {
			printf(i ? ",\n " : "\n ");
			node_json(c, nodes[i]);
		} else {
			ret = list_row(c, &t, nodes[i]);
		}
	}
	if (c->json)
		printf("%s]\n", i ? "\n" : "");
	else
		table_print(&t);
	vx_devices_free(nodes);
	return ret ? fail("list", -ret) : EXIT_SUCCESS;
}

static const char *const ports_head[] = { "PORT", "NAME", "NODE" };

/*
 * ports: every virtio-serial port, its name and its vportx node, or a
 * JSON array of {"port", "name", "node"}, null for no name or no node.
 */
static int cmd_ports(struct ctx *c, int argc, char **argv)
{
	struct table t = { .cols = ARRAY_SIZE(ports_head),
			   .head = ports_head };
	struct udev_device **ports, *node;
	const char *row[3];
	int ret = 0;
	size_t i;

	(void)argc;
	(void)argv;
	ports = vx_devices(c->udev, "virtio-ports");
	if (!ports)
		return fail("ports", errno);
	if (c->json)
		putchar('[');
	for (i = 0; ports[i] && !ret; i++) {
		node = vx_node_of_port(c->udev, ports[i]);
		row[0] = udev_device_get_devnode(ports[i]);
		row[1] = vx_port_name(ports[i]);
		row[2] = node ? udev_device_get_devnode(node) : NULL;
		if (c->json) {
			printf(i ? ",\n " : "\n ");
			printf("{\"port\": ");
			json_string(stdout, row[0] ?: "");
			json_str_field("name", row[1]);
			json_str_field("node", row[2]);
			putchar('}');
		} else {
			ret = table_add(&t, row);
		}
		udev_device_unref(node);
	}
	if (c->json)
		printf("%s]\n", i ? "\n" : "");
	else
		table_print(&t);
	vx_devices_free(ports);
	return ret ? fail("ports", -ret) : EXIT_SUCCESS;
}

static void print_settings(const struct vportx_settings *s)
{
	static const char *const backends[] = { "stacked", "direct" };

	if (s->attach >= 0)
		printf(" attach=%s", s->attach ? "yes" : "no");
	if (s->backend >= 0 && s->backend < 2)
		printf(" backend=%s", backends[s->backend]);
	if (s->hold >= 0)
		printf(" hold=%s", s->hold ? "always" : "open");
	if (s->compat >= 0)
		printf(" compat=%s", s->compat ? "yes" : "no");
	if (s->tx_limit >= 0)
		printf(" tx_limit=%lld", s->tx_limit);
	if (s->tx_low >= 0)
		printf(" tx_low=%lld", s->tx_low);
	if (s->rx_budget >= 0)
		printf(" rx_budget=%lld", s->rx_budget);
	if (*s->owner)
		printf(" owner=%s", s->owner);
	if (*s->group)
		printf(" group=%s", s->group);
	if (s->mode >= 0)
		printf(" mode=%04o", s->mode);
	if (s->broken)
		printf(" broken (%s)", s->why);
	putchar('\n');
}

/*
 * The members of settings @s after the first: "broken" always, "why" if
 * broken, else each key that is set: yes/no as true/false, sizes in
 * bytes, the mode as an octal string.
 */
static void settings_json(const struct vportx_settings *s)
{
	static const char *const backends[] = { "stacked", "direct" };
	char mode[8];

	printf(", \"broken\": %s", s->broken ? "true" : "false");
	if (s->broken)
		json_str_field("why", s->why);
	if (s->attach >= 0)
		printf(", \"attach\": %s", s->attach ? "true" : "false");
	if (s->backend >= 0 && s->backend < 2)
		json_str_field("backend", backends[s->backend]);
	if (s->hold >= 0)
		json_str_field("hold", s->hold ? "always" : "open");
	if (s->compat >= 0)
		printf(", \"compat\": %s", s->compat ? "true" : "false");
	if (s->tx_limit >= 0)
		printf(", \"tx_limit\": %lld", s->tx_limit);
	if (s->tx_low >= 0)
		printf(", \"tx_low\": %lld", s->tx_low);
	if (s->rx_budget >= 0)
		printf(", \"rx_budget\": %lld", s->rx_budget);
	if (*s->owner)
		json_str_field("owner", s->owner);
	if (*s->group)
		json_str_field("group", s->group);
	snprintf(mode, sizeof(mode), "%04o", s->mode & 0777);
	if (s->mode >= 0)
		json_str_field("mode", mode);
}

/* The entries as a JSON array of {"pattern", "where", settings}. */
static void policy_json(const struct vportx_policy *p)
{
	const struct vportx_settings *s;
	const char *pattern, *where;
	size_t i;

	putchar('[');
	for (i = 0; (pattern = vportx_policy_entry(p, i, &where, &s)); i++) {
		printf(i ? ",\n {\"pattern\": " : "\n {\"pattern\": ");
		json_string(stdout, pattern);
		json_str_field("where", where);
		settings_json(s);
		putchar('}');
	}
	printf("%s]\n", i ? "\n" : "");
}

/*
 * policy [NAME]: the files' entries, or what they give the port NAME,
 * also with errors in the files (printed, and the exit code is 1).
 */
static int cmd_policy(struct ctx *c, int argc, char **argv)
{
	struct vportx_policy *p = vportx_policy_new();
	struct vportx_settings s;
	int errors;

	if (!p)
		return fail("policy", ENOMEM);
	errors = vportx_policy_load(p, c->root, stderr);
	if (errors < 0) {
		vportx_policy_free(p);
		return fail("policy", -errors);
	}
	if (!argc && c->json) {
		policy_json(p);
	} else if (!argc) {
		vportx_policy_dump(p, stdout);
	} else if (c->json) {
		vportx_policy_lookup(p, argv[0], &s);
		printf("{\"name\": ");
		json_string(stdout, *argv[0] ? argv[0] : "@unnamed");
		settings_json(&s);
		printf("}\n");
	} else {
		vportx_policy_lookup(p, argv[0], &s);
		printf("%s:", *argv[0] ? argv[0] : "@unnamed");
		print_settings(&s);
	}
	vportx_policy_free(p);
	return errors ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * Whether the policy hands device @index to the direct backend: a port of
 * it has backend=direct (and not attach=no). @s gets the first such
 * port's settings, which the claim gives every port of the device.
 */
static bool device_direct(struct ctx *c, struct udev_device **ports,
			  long long index, struct vportx_settings *s)
{
	struct vportx_policy *p = policy_load(c);
	bool direct = false;
	size_t i;

	for (i = 0; p && ports[i] && !direct; i++) {
		if (port_device(ports[i]) != index ||
		    policy_lookup(p, vx_port_name(ports[i]), s))
			continue;
		direct = s->backend == VPORTX_POLICY_BACKEND_DIRECT &&
			 s->attach;
	}
	vportx_policy_free(p);
	return direct;
}

/* Whether virtio@index is bound to vportx's own driver. */
static bool device_is_ours(long long index)
{
	char path[96], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/virtio%lld/driver",
		 index);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strcmp(strrchr(target, '/') + 1, "vportx");
}

/* Set for udev-port run by udev_port_later(): services may be moved. */
#define VPORTX_MOVING "VPORTX_MOVE_SERVICES"

static bool moving(void)
{
	return getenv(VPORTX_MOVING);
}

/*
 * Leave udev-port @port to a transient systemd unit, as udev should for
 * work that waits on services. Run there, udev-port stops the services
 * on the nodes it takes away and starts them again on the new ones.
 */
static int udev_port_later(const char *port)
{
	char self[PATH_MAX], unit[96];
	char *const argv[] = { "systemd-run", "--no-block", "--quiet", "--collect",
			 "--setenv=" VPORTX_MOVING "=1", "--unit", unit, "--",
			 self, "udev-port", (char *)port, NULL };
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return fail("/proc/self/exe", errno);
	self[n] = '\0';
	snprintf(unit, sizeof(unit), "vportx-udev-port-%s", port);
	if (vx_run(argv))
		return fail_msg(unit, "systemd-run failed");
	return EXIT_SUCCESS;
}

/* Whether a service has the stock node of @port open. */
static bool port_held(struct udev_device *port)
{
	struct vx_units u = { 0 };
	bool held;

	vx_holders(udev_device_get_devnum(port), &u);
	held = u.n;
	vx_units_free(&u);
	return held;
}

/*
 * Claim device @index for udev-port: its ports' stacked nodes are
 * detached first. The claim's settings are the defaults: each port's own
 * are set as its node appears (udev-node). A sibling port's udev-port may
 * be at the same work (EBUSY from a claim done, or a node it attached
 * meanwhile): try again a few times, and a device that ends up ours is a
 * success.
 */
static int claim_by_policy(struct ctx *c, struct udev_device **ports,
			   long long index)
{
	struct vportx_claim cl = { .index = index };
	char what[32];
	int ret = -EBUSY, tries;

	snprintf(what, sizeof(what), "claim virtio%lld", index);
	for (tries = 0; tries < 3 && ret == -EBUSY; tries++) {
		if (device_is_ours(index))
			return EXIT_SUCCESS;
		/* Detaching the others would leave them detached for nothing. */
		if (device_busy(c, ports, index))
			return fail_msg(what, "a node of it is open");
		detach_device(c, ports, index);
		ret = control_ioctl(VPORTX_IOC_CLAIM, &cl);
	}
	return ret ? fail(what, -ret) : EXIT_SUCCESS;
}

/*
 * claim_by_policy, the services on the device's nodes moved: left to
 * systemd when udev runs us (udev_port_later), done when systemd does.
 */
static int claim_moving(struct ctx *c, struct udev_device **ports,
			struct udev_device *port, long long index)
{
	struct vx_units u = { 0 };
	int ret;

	device_holders(c, index, true, &u);
	if (u.n && !moving())
		ret = udev_port_later(udev_device_get_sysname(port));
	else if (vx_units_stop(&u))
		ret = fail_msg(udev_device_get_sysname(port),
			       "the services on its device did not stop");
	else
		ret = claim_by_policy(c, ports, index);
	/* Handed on, the unit starts them; held by none, none to start. */
	if (moving())
		vx_units_start(&u);
	vx_units_free(&u);
	return ret;
}

/* udev_claim(): the device stays with virtio_console, as it should. */
#define NOT_CLAIMED (-1)

/*
 * The policy's word on device @index: claimed for the direct backend
 * (unless released by hand), or not: EXIT_SUCCESS, EXIT_FAILURE (the
 * claim failed, reported) or NOT_CLAIMED.
 */
static int udev_claim(struct ctx *c, struct udev_device *port)
{
	struct udev_device **ports = vx_devices(c->udev, "virtio-ports");
	long long index = port_device(port);
	struct vportx_settings s;
	int ret = NOT_CLAIMED;

	if (!ports)
		return fail("udev-port", errno);
	if (index >= 0 && !released_marked(index) &&
	    device_direct(c, ports, index, &s))
		ret = claim_moving(c, ports, port, index);
	vx_devices_free(ports);
	return ret;
}

/*
 * Attach @port for udev, per policy @s. An attach that fails leaves a
 * mark, and udev is told: the port is the stock node's again for systemd
 * (udev-ready), so the services it wants start there, not never.
 */
static int udev_attach(struct udev_device *port,
		       const struct vportx_settings *s)
{
	const char *sysname = udev_device_get_sysname(port);
	int ret;

	if (!moving() && port_held(port))
		return udev_port_later(sysname);
	ret = moving() ? attach_moving(port, s) : attach_port(port, s, true);
	if (ret) {
		mark_set(VPORTX_FAILED_DIR, sysname, "");
		dev_changed(port);
	}
	return ret;
}

/* Whether udev runs us for an add event: a port new, or re-added. */
static bool udev_add(void)
{
	const char *action = getenv("ACTION");

	return action && !strcmp(action, "add");
}

/*
 * Whether udev leaves the port @sysname to the stock node on a change
 * event: it was detached by hand, or udev's attach failed. An add event
 * (the port re-added, or `udevadm trigger --action=add`) starts afresh.
 */
static bool left_alone(const char *sysname)
{
	return mark_read(VPORTX_DETACHED_DIR, sysname, NULL, 0) ||
	       mark_read(VPORTX_FAILED_DIR, sysname, NULL, 0);
}

/* The port's SYSTEMD_WANTS from the rules before ours, for its node. */
static void save_wants(struct udev_device *port)
{
	const char *wants = getenv("SYSTEMD_WANTS");
	char name[256];

	if (wants && *wants &&
	    vx_link_name(vx_port_name(port), name, sizeof(name)))
		mark_set(VPORTX_WANTS_DIR, name, wants);
}

/*
 * udev-port PORT, for virtio-ports add and change events. If a port of its
 * device says backend=direct, claim the device. Attached already: have
 * udev rename the node (the port's name comes with a change event after
 * the add). Otherwise attach if the policy says so, also when the claim
 * failed (the error is printed, the exit code is the claim's), unless it
 * was detached by hand or failed before. Nothing to do is a success: a
 * port the policy leaves alone, or one gone meanwhile (a sibling's claim
 * took it); udev logs every other exit code.
 */
static int cmd_udev_port(struct ctx *c, int argc, char **argv)
{
	struct udev_device *port, *node;
	const char *sysname;
	struct vportx_settings s;
	int ret, claimed;

	(void)argc;
	port = vx_port_find(c->udev, argv[0]);
	if (!port)
		return errno == ENOENT || errno == ENODEV ?
		       EXIT_SUCCESS : fail(argv[0], errno);
	save_wants(port);
	sysname = udev_device_get_sysname(port);
	ret = EXIT_SUCCESS;
	if (udev_add()) {
		mark_clear(VPORTX_DETACHED_DIR, sysname);
		mark_clear(VPORTX_FAILED_DIR, sysname);
	}
	if (left_alone(sysname))
		goto out_unref;
	claimed = udev_claim(c, port);
	if (claimed == EXIT_SUCCESS)
		goto out_unref;
	node = vx_node_of_port(c->udev, port);
	if (node)
		dev_changed(node);
	ret = node ? EXIT_SUCCESS : policy_for(c, vx_port_name(port), &s);
	if (!node && !ret)
		ret = s.attach == 1 ? udev_attach(port, &s) : EXIT_SUCCESS;
	udev_device_unref(node);
	if (claimed == EXIT_FAILURE)
		ret = claimed;
out_unref:
	udev_device_unref(port);
	return ret;
}

/* Whether this kernel has vportx: loaded, or in its modules.dep. */
static bool vportx_present(void)
{
	char path[PATH_MAX], line[1024];
	struct utsname u;
	bool found = false;
	FILE *f;

	if (!access("/sys/module/vportx", F_OK))
		return true;
	if (uname(&u))
		return false;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, "/vportx.ko") && strchr(line, ':') >
			strstr(line, "/vportx.ko");
	if (f)
		fclose(f);
	return found;
}

/*
 * udev-ready PORT, for IMPORT{program} on virtio-ports add and change
 * events, before udev-port runs: VPORTX_SERVED=1 when vportx serves the
 * port, or is about to (the policy attaches or claims it, this kernel has
 * vportx, and it was neither detached by hand nor failed). The rules then
 * keep the stock node from systemd (SYSTEMD_READY=0): a service the port
 * wants must start on vportx's node, not on the stock one first.
 */
static int cmd_udev_ready(struct ctx *c, int argc, char **argv)
{
	struct udev_device *port, *node;
	struct vportx_settings s;
	const char *sysname;
	bool served;

	(void)argc;
	port = vx_port_find(c->udev, argv[0]);
	if (!port)
		return EXIT_SUCCESS;
	sysname = udev_device_get_sysname(port);
	node = vx_node_of_port(c->udev, port);
	served = node ||
		 ((udev_add() || !left_alone(sysname)) && vportx_present() &&
		  !policy_for(c, vx_port_name(port), &s) && s.attach == 1);
	if (served)
		puts("VPORTX_SERVED=1");
	udev_device_unref(node);
	udev_device_unref(port);
	return EXIT_SUCCESS;
}

/* The owner, group and mode lines, all or none: never half-applied. */
static int print_perms(const struct vportx_settings *s)
{
	if (*s->owner && !getpwnam(s->owner) &&
	    strspn(s->owner, "0123456789") != strlen(s->owner))
		return fail_msg(s->owner, "no such user");
	if (*s->group && !getgrnam(s->group) &&
	    strspn(s->group, "0123456789") != strlen(s->group))
		return fail_msg(s->group, "no such group");
	if (*s->owner)
		printf("VPORTX_OWNER=%s\n", s->owner);
	if (*s->group)
		printf("VPORTX_GROUP=%s\n", s->group);
	if (s->mode >= 0)
		printf("VPORTX_MODE=%04o\n", s->mode);
	return 0;
}

/*
 * The compat link virtio-ports/NAME, where the stock rule puts the stock
 * node's: only for a name that rule uses as it is, or the two links would
 * not be the same and agents would still find the stock node.
 */
static void print_compat(const char *name)
{
	char buf[256];

	if (vx_link_name(name, buf, sizeof(buf)) && !strcmp(buf, name))
		printf("VPORTX_COMPAT=virtio-ports/%s\n", name);
}

/*
 * VPORTX_SYSTEMD_WANTS: what the port named @name wanted of systemd
 * (save_wants): the node serves the port now, so it wants the same.
 */
static void print_wants(const char *name)
{
	char file[256], wants[1024];

	if (vx_link_name(name, file, sizeof(file)) &&
	    mark_read(VPORTX_WANTS_DIR, file, wants, sizeof(wants)) &&
	    !strpbrk(wants, "\n\"'"))
		printf("VPORTX_SYSTEMD_WANTS=%s\n", wants);
}

/* Write @val to @attr of @node unless it reads so already. */
static int set_attr(struct udev_device *node, const char *attr,
		    const char *val)
{
	char what[64];
	int ret;

	if (!strcmp(vx_attr(node, attr), val))
		return 0;
	ret = udev_device_set_sysattr_value(node, attr, val);
	if (!ret)
		return 0;
	snprintf(what, sizeof(what), "%s: %s", udev_device_get_sysname(node),
		 attr);
	return fail(what, -ret);
}

static int set_attr_num(struct udev_device *node, const char *attr,
			long long v)
{
	char val[24];

	snprintf(val, sizeof(val), "%lld", v);
	return set_attr(node, attr, val);
}

/*
 * A direct node's hold, TX watermarks and RX budget, as its port's policy
 * gives them, the defaults where it is silent: a claim gives every port
 * of the device the same, and these are each port's own. The kernel
 * wants tx_low below tx_limit after each write, so tx_low goes first when
 * it is below the node's tx_limit now. A value refused is on stderr.
 */
static void apply_direct(struct udev_device *node,
			 const struct vportx_settings *s)
{
	long long limit = s->tx_limit > 0 ? s->tx_limit :
			  VPORTX_TX_LIMIT_DEFAULT;
	long long low = s->tx_low > 0 ? s->tx_low : limit / 2;
	bool low_first;

	if (strcmp(vx_attr(node, "backend"), "direct"))
		return;
	low_first = low < atoll(vx_attr(node, "tx_limit"));
	set_attr_num(node, "rx_budget", s->rx_budget > 0 ?
		     s->rx_budget : VPORTX_RX_BUDGET_DEFAULT);
	if (low_first)
		set_attr_num(node, "tx_low", low);
	set_attr_num(node, "tx_limit", limit);
	if (!low_first)
		set_attr_num(node, "tx_low", low);
	set_attr(node, "hold", s->hold > 0 ? "always" : "open");
}

/*
 * udev-node NODE, for IMPORT{program} on vportx add and change events:
 * KEY=value lines for the rules to name the node and set its owner,
 * group and mode before anyone can open it. A direct node gets its
 * port's settings first; one it refuses is an error on stderr, but the
 * node is named all the same (a failed IMPORT would import nothing).
 */
static int cmd_udev_node(struct ctx *c, int argc, char **argv)
{
	struct udev_device *node, *port;
	struct vportx_settings s;
	char link[300], bypath[300];
	int ret;

	(void)argc;
	node = vx_node_find(c->udev, argv[0]);
	if (!node)
		return fail(argv[0], errno);
	port = vx_port_of_node(c->udev, node);
	node_links(port, link, bypath, sizeof(link));
	if (*link)
		printf("VPORTX_LINK=%s\n", link + strlen("/dev/"));
	if (*bypath)
		printf("VPORTX_BYPATH=%s\n", bypath + strlen("/dev/"));
	ret = policy_for(c, port ? vx_port_name(port) : "", &s);
	if (!ret)
		apply_direct(node, &s);
	if (!ret && s.compat && port)
		print_compat(vx_port_name(port));
	if (port)
		print_wants(vx_port_name(port));
	if (!ret)
		ret = print_perms(&s);
	udev_device_unref(port);
	udev_device_unref(node);
	return ret;
}

/* The options a command may take, besides -h/--help: bits of struct
 * command's @opts.
 */
#define O_HOLD (1U << 0)
#define O_TX_LIMIT (1U << 1)
#define O_TX_LOW (1U << 2)
#define O_ALL (1U << 3)
#define O_JSON (1U << 4)

/**
 * struct command - one COMMAND of vportxctl
 * @name:	what the user types
 * @fn:		runs it, with its operands only (options are in the ctx)
 * @args:	its operands, for its usage line
 * @min:	the fewest operands it takes
 * @max:	the most
 * @opts:	the options it takes (O_*); O_JSON for the listings
 * @summary:	what it does in a few words, for vportxctl --help
 * @about:	what it does, for its --help
 * @options:	its own options' lines for its --help, or NULL
 */
struct command {
	const char *name;
	int (*fn)(struct ctx *c, int argc, char **argv);
	const char *args;
	int min, max;
	unsigned int opts;
	const char *summary;
	const char *about;
	const char *options;
};

#define PORT_IS \
	"PORT is /dev/vportNpM, a link to it such as /dev/virtio-ports/NAME,\n" \
	"vportNpM, or a port name.\n"
#define NODE_IS \
	"NODE is /dev/vportxNpM, a link to it such as /dev/vportx/NAME,\n" \
	"vportxNpM, or anything naming its port.\n"
#define DEVICE_IS \
	"DEVICE is virtioN or N, as in /sys/bus/virtio/devices.\n"

static const struct command commands[] = {
	{ "attach", cmd_attach, "PORT", 1, 1, O_HOLD | O_TX_LIMIT | O_TX_LOW,
	  "attach a port, with its policy's settings",
	  "Attach a virtio-serial port to vportx with the settings its policy\n"
	  "gives it, the options below on top, and print the data node's path.\n"
	  PORT_IS
	  "SIZE is digits, then maybe K, M or G (1024-based, either case), as in\n"
	  "the policy files.\n",
	  " --hold open|always   open the port only while the node is open (the\n"
	  "                      default), or from attach to detach\n"
	  " --tx-limit SIZE      bytes queued for the port (4K..256M, default 1M)\n"
	  " --tx-low SIZE        how far a full queue drains before writers go on\n"
	  "                      (below the limit; 0 or default: half of it)\n" },
	{ "detach", cmd_detach, "NODE|--all", 0, 1, O_ALL,
	  "detach a node, or every stacked node",
	  "Detach a data node, or every stacked node: an open node stays, and\n"
	  "so do a claimed device's (release the device).\n" NODE_IS,
	  " --all                every stacked node; none there is a success\n" },
	{ "claim", cmd_claim, "DEVICE", 1, 1, 0,
	  "hand a virtio-console device to vportx",
	  "Hand a virtio-console device to vportx's own driver, the direct\n"
	  "backend: every port of it but a console gets a data node.\n"
	  DEVICE_IS, NULL },
	{ "release", cmd_release, "DEVICE", 1, 1, 0,
	  "give it back to virtio_console",
	  "Give a claimed device back to virtio_console; udev leaves it there\n"
	  "until it is claimed by hand again.\n" DEVICE_IS, NULL },
	{ "list", cmd_list, "", 0, 0, O_JSON, "the data nodes",
	  "One line per data node; with --json, a JSON array of what status\n"
	  "--json prints. No node: no line (or []), and exit status 0.\n",
	  NULL },
	{ "status", cmd_status, "NODE", 1, 1, O_JSON, "one data node in full",
	  "One data node in full: its links and its sysfs attributes; with\n"
	  "--json, a JSON object.\n" NODE_IS, NULL },
	{ "ports", cmd_ports, "", 0, 0, O_JSON,
	  "the virtio-serial ports and their nodes",
	  "Every virtio-serial port, its name and its data node if attached;\n"
	  "with --json, a JSON array of {\"port\", \"name\", \"node\"}.\n",
	  NULL },
	{ "policy", cmd_policy, "[NAME]", 0, 1, O_JSON,
	  "the policy's entries, or one port's settings",
	  "Without NAME, every entry of the policy files as understood; with it,\n"
	  "the settings a port named NAME gets (@unnamed: a port without a\n"
	  "name). With --json, JSON. Errors in the files are printed as\n"
	  "FILE:LINE: why, and the exit status is 1.\n", NULL },
	{ "udev-port", cmd_udev_port, "PORT", 1, 1, 0,
	  "for udev: claim or attach a port per policy",
	  "For udev, on a virtio-serial port's add and change events: claim\n"
	  "its device or attach it, if its policy says so. Nothing to do is\n"
	  "a success.\n" PORT_IS, NULL },
	{ "udev-ready", cmd_udev_ready, "PORT", 1, 1, 0,
	  "for udev: is a port vportx's",
	  "For udev's IMPORT{program}, on a virtio-serial port's add and change\n"
	  "events: VPORTX_SERVED=1 when vportx serves the port or is about to,\n"
	  "so that the rules hide its stock node from systemd.\n" PORT_IS, NULL },
	{ "udev-node", cmd_udev_node, "NODE", 1, 1, 0,
	  "for udev: a node's links, owner, group, mode",
	  "For udev's IMPORT{program}, on a data node's add and change events:\n"
	  "VPORTX_LINK=, VPORTX_BYPATH=, VPORTX_COMPAT=, VPORTX_SYSTEMD_WANTS=,\n"
	  "VPORTX_OWNER=, VPORTX_GROUP= and VPORTX_MODE= lines.\n" NODE_IS, NULL },
};

#define EXIT_STATUS_HELP \
	"Exit status: 0 success (also with nothing to list or to do), 1 failure\n" \
	"(the operation failed, or what it names is not there), 2 usage error.\n"

static const char *cmd_name(const struct ctx *c)
{
	return c->cmd ? c->cmd->name : "";
}

static int print_usage(FILE *out, int code)
{
	size_t i;
	int n;

	fputs("usage: vportxctl [-J|--json] COMMAND [options] [ARGS]\n"
	      "       vportxctl -h|--help | -V|--version\n"
	      "\nAttach virtio-serial ports to vportx, detach them, list and\n"
	      "describe the data nodes.\n\nCommands:\n", out);
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		n = fprintf(out, " %s %s", commands[i].name, commands[i].args);
		fprintf(out, "%*s%s\n", n < 22 ? 22 - n : 1, "",
			commands[i].summary);
	}
	fputs("\nOptions:\n"
	      " -J, --json           JSON output (list, status, ports, policy)\n"
	      " -h, --help           this help; COMMAND --help: the command's\n"
	      " -V, --version        the version\n\n" EXIT_STATUS_HELP
	      "Policy: " VPORTX_POLICY_LIBDIR "/policy.conf, /etc/vportx/policy.conf,\n"
	      "        /etc/vportx/policy.d/*.conf. See vportxctl(8).\n", out);
	return code;
}

/* COMMAND --help */
static int command_usage(const struct command *cmd)
{
	printf("usage: vportxctl %s%s%s%s\n\n%s\nOptions:\n%s", cmd->name,
	       cmd->opts & ~O_ALL ? " [options]" : "", *cmd->args ? " " : "",
	       cmd->args, cmd->about, cmd->options ?: "");
	if (cmd->opts & O_JSON)
		puts(" -J, --json           JSON output");
	printf(" -h, --help           this help\n\n" EXIT_STATUS_HELP);
	return EXIT_SUCCESS;
}

static const struct option options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'J' },
	{ "version", no_argument, NULL, 'V' },
	{ "hold", required_argument, NULL, 'H' },
	{ "tx-limit", required_argument, NULL, 'L' },
	{ "tx-low", required_argument, NULL, 'W' },
	{ "all", no_argument, NULL, 'a' },
	{ }
};

/* The option getopt_long() just refused, as the user typed it. */
static const char *bad_option(char **argv, char *buf, size_t len)
{
	const char *arg = argv[optind - 1];

	if (optopt && strncmp(arg, "--", 2))
		snprintf(buf, len, "-%c", optopt);
	else
		snprintf(buf, len, "%.*s", (int)strcspn(arg, "="), arg);
	return buf;
}

/* A size option for policy key @key, refused as the policy would. */
static int size_option(struct ctx *c, const char *opt, const char *key,
		       const char *arg, long long *out)
{
	char msg[256];

	if (!vportx_policy_size(key, arg, out, msg, sizeof(msg)))
		return 0;
	return usage_error(c, opt, msg);
}

/* One option of the command: 0, or the exit code of a usage error. */
static int command_option(struct ctx *c, int o, char **argv)
{
	static const struct {
		int o;
		unsigned int bit;
		const char *name;
	} owner[] = {
		{ 'J', O_JSON, "--json" }, { 'H', O_HOLD, "--hold" },
		{ 'L', O_TX_LIMIT, "--tx-limit" }, { 'W', O_TX_LOW, "--tx-low" },
		{ 'a', O_ALL, "--all" },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(owner); i++)
		if (o == owner[i].o && !(c->cmd->opts & owner[i].bit))
			return usage_error(c, owner[i].name, o == 'J' ?
					   "only list, status, ports and policy print JSON" :
					   "not an option of this command");
	switch (o) {
	case 'J':
		c->json = true;
		return 0;
	case 'a':
		c->all = true;
		return 0;
	case 'H':
		if (strcmp(optarg, "open") && strcmp(optarg, "always"))
			return usage_error(c, "--hold", "open or always");
		c->opt.hold = !strcmp(optarg, "always");
		return 0;
	case 'L':
		return size_option(c, "--tx-limit", "tx_limit", optarg,
				   &c->opt.tx_limit);
	case 'W':
		return size_option(c, "--tx-low", "tx_low", optarg,
				   &c->opt.tx_low);
	case ':':
		return usage_error(c, bad_option(argv, buf, sizeof(buf)),
				   "needs an argument");
	default:
		return usage_error(c, bad_option(argv, buf, sizeof(buf)),
				   "unknown option");
	}
}

/*
 * The command's options and the number of its operands, from @argv
 * (argv[0] is the command): 0, or -1 after --help, or the exit code of a
 * usage error. The operands are then argv[optind...].
 */
static int command_line(struct ctx *c, int argc, char **argv)
{
	char why[64];
	int o, ret, n;

	optind = 0;	/* glibc: start again, with argv[0] the command */
	while ((o = getopt_long(argc, argv, ":hJ", options, NULL)) != -1) {
		if (o == 'h')
			return -1;
		/* --version is not a command's option */
		ret = command_option(c, o == 'V' ? '?' : o, argv);
		if (ret)
			return ret;
	}
	if (c->json && !(c->cmd->opts & O_JSON))
		return usage_error(c, "--json",
				   "only list, status, ports and policy print JSON");
	n = argc - optind;
	if (n < c->cmd->min) {
		snprintf(why, sizeof(why), "%s missing", c->cmd->args);
		return usage_error(c, c->cmd->name, why);
	}
	if (n > c->cmd->max)
		return usage_error(c, argv[optind + c->cmd->max],
				   "one argument too many");
	return 0;
}

int main(int argc, char **argv)
{
	struct ctx c = {
		.root = getenv("VPORTX_POLICY_ROOT") ?: "",
		.opt = { .hold = -1, .tx_limit = -1, .tx_low = -1 },
	};
	char buf[64];
	size_t i;
	int o, ret;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:hJV", options, NULL)) != -1) {
		switch (o) {
		case 'h':
			return print_usage(stdout, EXIT_SUCCESS);
		case 'V':
			return puts("vportxctl " VPORTX_VERSION) < 0;
		case 'J':
			c.json = true;
			break;
		default:
			return usage_error(&c, bad_option(argv, buf, sizeof(buf)),
					   o == ':' ? "needs an argument" :
					   "not an option before COMMAND");
		}
	}
	if (optind == argc)
		return print_usage(stderr, EXIT_USAGE);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[optind], commands[i].name))
			c.cmd = &commands[i];
	if (!c.cmd)
		return usage_error(&c, argv[optind], "unknown command");
	argc -= optind;
	argv += optind;
	ret = command_line(&c, argc, argv);
	if (ret)
		return ret < 0 ? command_usage(c.cmd) : ret;
	c.udev = udev_new();
	if (!c.udev)
		return fail("udev", errno ? errno : ENOMEM);
	ret = c.cmd->fn(&c, argc - optind, argv + optind);
	udev_unref(c.udev);
	return ret;
}
