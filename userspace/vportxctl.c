// SPDX-License-Identifier: GPL-2.0
/*
 * vportxctl: attach virtio-serial ports to vportx, detach them, list and
 * describe the data nodes, and the two entry points udev runs
 * (udev/60-vportx.rules): udev-port attaches a port per policy, udev-node
 * names a data node and gives it its owner, group and mode.
 *
 * Exit codes like losetup and nbd-client: 0 done, 1 nothing to do (not
 * attached, policy says no), 2 error. Errors: "vportxctl: what: why".
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
#include <unistd.h>

#include <linux/vportx.h>

#include "policy.h"
#include "vportxctl.h"

#ifndef VPORTX_VERSION
#error "VPORTX_VERSION comes from kmod/version.h: build with the Makefile"
#endif
#define VPORTX_RUN_DIR "/run/vportx"
#define VPORTX_RELEASED_DIR VPORTX_RUN_DIR "/released"

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

struct ctx {
	struct udev *udev;
	const char *root;	/* policy files under here; "" for / */
	bool json;
	bool all;
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "vportxctl: %s: %s\n", what, strerror(err));
	return EXIT_ERROR;
}

static int fail_msg(const char *what, const char *why)
{
	fprintf(stderr, "vportxctl: %s: %s\n", what, why);
	return EXIT_ERROR;
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

/* The settings @p gives the port named @name; EXIT_ERROR if broken. */
static int policy_lookup(const struct vportx_policy *p, const char *name,
			 struct vportx_settings *s)
{
	vportx_policy_lookup(p, name, s);
	if (s->broken)
		return fail_msg("policy", s->why);
	return 0;
}

/* The settings policy gives the port named @name; EXIT_ERROR if broken. */
static int policy_for(struct ctx *c, const char *name,
		      struct vportx_settings *s)
{
	struct vportx_policy *p = policy_load(c);
	int ret;

	if (!p)
		return EXIT_ERROR;
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
		return EXIT_NOTHING;
	}
	if (ret)
		return fail(sysname, -ret);
	if (!quiet)
		printf("/dev/vportx%up%u\n", a.port_dev, a.port_nr);
	return EXIT_SUCCESS;
}

/*
 * A size option @opt for policy key @key: the policy files' parser, so
 * that both take the same sizes and say the same about bad ones.
 */
static int parse_size(const char *opt, const char *key, const char *arg,
		      long long *out)
{
	char msg[256];

	if (!vportx_policy_size(key, arg, out, msg, sizeof(msg)))
		return 0;
	return fail_msg(opt, msg);
}

static int attach_options(int argc, char **argv, struct vportx_settings *s)
{
	static const struct option opts[] = {
		{ "hold", required_argument, NULL, 'H' },
		{ "tx-limit", required_argument, NULL, 'L' },
		{ "tx-low", required_argument, NULL, 'W' },
		{ }
	};
	int o;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'H':
			if (strcmp(optarg, "open") && strcmp(optarg, "always"))
				return fail_msg("--hold", "open or always");
			s->hold = !strcmp(optarg, "always");
			break;
		case 'L':
			if (parse_size("--tx-limit", "tx_limit", optarg,
				       &s->tx_limit))
				return EXIT_ERROR;
			break;
		case 'W':
			if (parse_size("--tx-low", "tx_low", optarg,
				       &s->tx_low))
				return EXIT_ERROR;
			break;
		default:
			return fail_msg(argv[optind - 1], "unknown option");
		}
	}
	return optind == argc - 1 ? 0 : fail_msg("attach", "one PORT please");
}

/* attach PORT: the policy's settings for the port, options on top. */
static int cmd_attach(struct ctx *c, int argc, char **argv)
{
	struct vportx_settings s, opt = { .hold = -1, .tx_limit = -1,
					  .tx_low = -1 };
	struct udev_device *port;
	int ret;

	ret = attach_options(argc, argv, &opt);
	if (ret)
		return ret;
	port = vx_port_find(c->udev, argv[optind]);
	if (!port)
		return fail(argv[optind], errno);
	ret = policy_for(c, vx_port_name(port), &s);
	if (!ret) {
		if (opt.hold >= 0)
			s.hold = opt.hold;
		if (opt.tx_limit >= 0)
			s.tx_limit = opt.tx_limit;
		if (opt.tx_low >= 0)
			s.tx_low = opt.tx_low;
		ret = attach_port(port, &s, false);
	}
	udev_device_unref(port);
	return ret;
}

static int detach_node(struct udev_device *node)
{
	struct vportx_detach d = { 0 };
	dev_t devnum = udev_device_get_devnum(node);
	int ret;

	d.minor = minor(devnum);
	ret = control_ioctl(VPORTX_IOC_DETACH, &d);
	if (ret == -ENXIO)
		return EXIT_NOTHING;
	if (ret == -EOPNOTSUPP)
		return fail_msg(udev_device_get_sysname(node),
				"a port of a claimed device: release the device");
	/* Closed, yet busy: closing its port would drop what it received. */
	if (ret == -EBUSY && !strcmp(vx_attr(node, "open"), "0"))
		return fail_msg(udev_device_get_sysname(node),
				"its port has bytes nobody read");
	return ret ? fail(udev_device_get_sysname(node), -ret) : EXIT_SUCCESS;
}

static int detach_all(struct ctx *c)
{
	struct udev_device **nodes = vx_devices(c->udev, "vportx");
	int ret = EXIT_NOTHING, r;
	size_t i;

	if (!nodes)
		return fail("detach", errno);
	for (i = 0; nodes[i]; i++) {
		/* A claimed device's nodes go with it: `release` does that. */
		if (!strcmp(vx_attr(nodes[i], "backend"), "direct"))
			continue;
		r = detach_node(nodes[i]);
		if (r == EXIT_ERROR || ret == EXIT_NOTHING)
			ret = r;
	}
	vx_devices_free(nodes);
	return ret;
}

/*
 * The node @spec names, or NULL with the exit code in *@ret: 1 for a port
 * that is not attached, 2 for anything that is not a port at all.
 */
static struct udev_device *attached_node(struct ctx *c, const char *spec,
					 int *ret)
{
	struct udev_device *node = vx_node_find(c->udev, spec);

	if (node)
		return node;
	if (errno != ENOENT) {
		*ret = fail(spec, errno);
	} else {
		fprintf(stderr, "vportxctl: %s: not attached\n", spec);
		*ret = EXIT_NOTHING;
	}
	return NULL;
}

/* detach NODE | --all */
static int cmd_detach(struct ctx *c, int argc, char **argv)
{
	struct udev_device *node;
	int ret;

	if (argc == 2 && !strcmp(argv[1], "--all"))
		return detach_all(c);
	if (argc != 2)
		return fail_msg("detach", "NODE or --all please");
	node = attached_node(c, argv[1], &ret);
	if (!node)
		return ret;
	ret = detach_node(node);
	udev_device_unref(node);
	return ret;
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

/*
 * A device released by hand stays with virtio_console until it is claimed
 * by hand again, whatever the policy says: udev-port reads this mark.
 */
static void released_mark(long long index, bool set)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), VPORTX_RELEASED_DIR "/virtio%lld",
		 index);
	if (!set) {
		unlink(path);
		return;
	}
	mkdir(VPORTX_RUN_DIR, 0755);
	mkdir(VPORTX_RELEASED_DIR, 0755);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		fprintf(stderr, "vportxctl: %s: %s (udev may claim it again)\n",
			path, strerror(errno));
	else
		close(fd);
}

static bool released_marked(long long index)
{
	char path[64];

	snprintf(path, sizeof(path), VPORTX_RELEASED_DIR "/virtio%lld",
		 index);
	return !access(path, F_OK);
}

/* claim DEVICE / release DEVICE: hand a virtio-console device over. */
static int claim_device(int argc, char **argv, bool claim)
{
	const char *what = claim ? "claim" : "release";
	struct vportx_claim cl = { 0 };
	long long index;
	int ret;

	if (argc != 2)
		return fail_msg(what, "DEVICE (virtioN) please");
	index = device_index(argv[1]);
	if (index < 0)
		return fail_msg(argv[1], "not a virtio device (virtioN or N)");
	cl.index = index;
	ret = control_ioctl(claim ? VPORTX_IOC_CLAIM : VPORTX_IOC_RELEASE,
			    &cl);
	if (ret == -ENXIO && !claim) {
		fprintf(stderr, "vportxctl: %s: not claimed\n", argv[1]);
		return EXIT_NOTHING;
	}
	if (ret == -EBUSY && !claim)
		return fail_msg(argv[1], "a closed node has bytes nobody read");
	if (!ret)
		released_mark(index, !claim);
	return ret ? fail(argv[1], -ret) : EXIT_SUCCESS;
}

static int cmd_claim(struct ctx *c, int argc, char **argv)
{
	(void)c;
	return claim_device(argc, argv, true);
}

static int cmd_release(struct ctx *c, int argc, char **argv)
{
	(void)c;
	return claim_device(argc, argv, false);
}

/* What status and list show of a node, in this order. */
static const char *const node_attrs[] = {
	"backend", "hold", "open", "host_connected", "unplugged", "tx_limit",
	"tx_low", "tx_queued", "tx_pages", "tx_pushes", "stalls", "tx_dropped",
	"tx_drain_ms", "rx_bytes", "tx_bytes",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static bool numeric_attr(const char *attr)
{
	return strcmp(attr, "backend") && strcmp(attr, "hold") &&
	       strcmp(attr, "host_connected");
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

static void json_field(FILE *out, const char *key, const char *val,
		       bool number)
{
	fprintf(out, ", ");
	json_string(out, key);
	fprintf(out, ": ");
	if (number)
		json_number(out, val);
	else if (*val)
		json_string(out, val);
	else
		fputs("null", out);
}

static void node_json(struct ctx *c, struct udev_device *node)
{
	struct udev_device *port = vx_port_of_node(c->udev, node);
	char link[300], bypath[300];
	const char *host = vx_attr(node, "host_connected");
	size_t i;

	node_links(port, link, bypath, sizeof(link));
	printf("{\"node\": ");
	json_string(stdout, udev_device_get_devnode(node) ?: "");
	json_field(stdout, "source", vx_attr(node, "source"), false);
	json_field(stdout, "name", port ? vx_port_name(port) : "", false);
	json_field(stdout, "link", link, false);
	json_field(stdout, "by_path", bypath, false);
	for (i = 0; i < ARRAY_SIZE(node_attrs); i++)
		if (strcmp(node_attrs[i], "host_connected"))
			json_field(stdout, node_attrs[i],
				   vx_attr(node, node_attrs[i]),
				   numeric_attr(node_attrs[i]));
	printf(", \"host_connected\": %s}", !strcmp(host, "1") ? "true" :
	       !strcmp(host, "0") ? "false" : "null");
	udev_device_unref(port);
}

static void node_text(struct ctx *c, struct udev_device *node)
{
	struct udev_device *port = vx_port_of_node(c->udev, node);
	char link[300], bypath[300];
	size_t i;

	node_links(port, link, bypath, sizeof(link));
	printf("node: %s\nsource: %s\nname: %s\nlink: %s\nby_path: %s\n",
	       udev_device_get_devnode(node) ?: "-", vx_attr(node, "source"),
	       port ? vx_port_name(port) : "", link, bypath);
	for (i = 0; i < ARRAY_SIZE(node_attrs); i++)
		printf("%s: %s\n", node_attrs[i], vx_attr(node, node_attrs[i]));
	udev_device_unref(port);
}

/* status NODE [--json] */
static int cmd_status(struct ctx *c, int argc, char **argv)
{
	struct udev_device *node;
	int ret;

	if (argc != 2)
		return fail_msg("status", "one NODE please");
	node = attached_node(c, argv[1], &ret);
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

static void list_line(struct ctx *c, struct udev_device *node)
{
	struct udev_device *port = vx_port_of_node(c->udev, node);
	const char *name = port ? vx_port_name(port) : "";

	printf("%-18s %-11s %-6s %-4s %-5s %10s %s\n",
	       udev_device_get_devnode(node) ?: "-", vx_attr(node, "source"),
	       vx_attr(node, "hold"), vx_attr(node, "open"),
	       vx_attr(node, "host_connected"), vx_attr(node, "tx_queued"),
	       *name ? name : "-");
	udev_device_unref(port);
}

/* list [--json]: every node; a JSON array with --json. */
static int cmd_list(struct ctx *c, int argc, char **argv)
{
	struct udev_device **nodes;
	size_t i;

	(void)argv;
	if (argc != 1)
		return fail_msg("list", "no arguments please");
	nodes = vx_devices(c->udev, "vportx");
	if (!nodes)
		return fail("list", errno);
	if (c->json)
		putchar('[');
	else if (nodes[0])
		printf("%-18s %-11s %-6s %-4s %-5s %10s %s\n", "NODE", "SOURCE",
		       "HOLD", "OPEN", "HOST", "TX_QUEUED", "NAME");
	for (i = 0; nodes[i]; i++) {
		if (c->json) {
			printf(i ? ",\n " : "\n ");
			node_json(c, nodes[i]);
		} else {
			list_line(c, nodes[i]);
		}
	}
	if (c->json)
		printf("%s]\n", i ? "\n" : "");
	vx_devices_free(nodes);
	return i || c->json ? EXIT_SUCCESS : EXIT_NOTHING;
}

/* ports: every virtio-serial port, attached or not. */
static int cmd_ports(struct ctx *c, int argc, char **argv)
{
	struct udev_device **ports, *node;
	const char *name;
	size_t i;

	(void)argv;
	if (argc != 1)
		return fail_msg("ports", "no arguments please");
	ports = vx_devices(c->udev, "virtio-ports");
	if (!ports)
		return fail("ports", errno);
	for (i = 0; ports[i]; i++) {
		node = vx_node_of_port(c->udev, ports[i]);
		name = vx_port_name(ports[i]);
		printf("%-20s %-30s %s\n",
		       udev_device_get_devnode(ports[i]) ?: "-",
		       *name ? name : "-",
		       node ? udev_device_get_devnode(node) ?: "-" : "-");
		udev_device_unref(node);
	}
	vx_devices_free(ports);
	return i ? EXIT_SUCCESS : EXIT_NOTHING;
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

/* policy [NAME]: the files' entries, or what they give the port NAME. */
static int cmd_policy(struct ctx *c, int argc, char **argv)
{
	struct vportx_policy *p = vportx_policy_new();
	struct vportx_settings s;
	int errors;

	if (argc > 2) {
		vportx_policy_free(p);
		return fail_msg("policy", "one NAME at most");
	}
	if (!p)
		return fail("policy", ENOMEM);
	errors = vportx_policy_load(p, c->root, stderr);
	if (argc == 1) {
		vportx_policy_dump(p, stdout);
	} else {
		vportx_policy_lookup(p, argv[1], &s);
		printf("%s:", *argv[1] ? argv[1] : "@unnamed");
		print_settings(&s);
	}
	vportx_policy_free(p);
	return errors ? EXIT_ERROR : EXIT_SUCCESS;
}

/* Tell udev to look at @node again: its name may have changed. */
static void node_changed(struct udev_device *node)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/uevent",
		 udev_device_get_syspath(node));
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
			detach_node(node);
		udev_device_unref(node);
	}
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
 * The policy's word on device @index: claimed for the direct backend
 * (unless released by hand), or not. EXIT_NOTHING when it stays stacked.
 */
static int udev_claim(struct ctx *c, struct udev_device *port)
{
	struct udev_device **ports = vx_devices(c->udev, "virtio-ports");
	long long index = port_device(port);
	struct vportx_settings s;
	int ret = EXIT_NOTHING;

	if (!ports)
		return fail("udev-port", errno);
	if (index >= 0 && !released_marked(index) &&
	    device_direct(c, ports, index, &s))
		ret = claim_by_policy(c, ports, index);
	vx_devices_free(ports);
	return ret;
}

/*
 * udev-port PORT, for virtio-ports add and change events. If a port of its
 * device says backend=direct, claim the device. Attached already: have
 * udev rename the node (the port's name comes with a change event after
 * the add). Otherwise attach if the policy says so, also when the claim
 * failed (the error is printed, the exit code is the claim's). A port
 * gone meanwhile (a sibling's claim took it) is nothing to do.
 */
static int cmd_udev_port(struct ctx *c, int argc, char **argv)
{
	struct udev_device *port, *node;
	struct vportx_settings s;
	int ret, claimed;

	if (argc != 2)
		return fail_msg("udev-port", "one PORT please");
	port = vx_port_find(c->udev, argv[1]);
	if (!port)
		return errno == ENOENT || errno == ENODEV ?
		       EXIT_NOTHING : fail(argv[1], errno);
	claimed = udev_claim(c, port);
	if (claimed == EXIT_SUCCESS) {
		udev_device_unref(port);
		return claimed;
	}
	node = vx_node_of_port(c->udev, port);
	if (node)
		node_changed(node);
	ret = node ? EXIT_SUCCESS : policy_for(c, vx_port_name(port), &s);
	if (!node && !ret)
		ret = s.attach == 1 ? attach_port(port, &s, true) :
		      EXIT_NOTHING;
	udev_device_unref(node);
	udev_device_unref(port);
	return claimed == EXIT_ERROR ? claimed : ret;
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

	if (argc != 2)
		return fail_msg("udev-node", "one NODE please");
	node = vx_node_find(c->udev, argv[1]);
	if (!node)
		return fail(argv[1], errno);
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
	if (!ret)
		ret = print_perms(&s);
	udev_device_unref(port);
	udev_device_unref(node);
	return ret;
}

static int print_usage(FILE *out, int code)
{
	fprintf(out,
		"usage: vportxctl [--json] COMMAND [ARGS]\n"
		"\n"
		"  attach PORT [--hold open|always] [--tx-limit SIZE] [--tx-low SIZE]\n"
		"                        attach a port (/dev/vportNpM, /dev/virtio-ports/NAME,\n"
		"                        vportNpM or a port name) with its policy's settings\n"
		"  detach NODE|--all     detach a node (/dev/vportxNpM, /dev/vportx/NAME,\n"
		"                        vportxNpM, or its port) or every node\n"
		"  claim DEVICE          hand a virtio-console device (virtioN) to vportx's\n"
		"                        own driver, the direct backend\n"
		"  release DEVICE        give it back to virtio_console\n"
		"  list [--json]         the attached nodes\n"
		"  status NODE [--json]  one node in full\n"
		"  ports                 the virtio-serial ports and their nodes\n"
		"  policy [NAME]         the policy files' entries, or one port's settings\n"
		"  udev-port PORT        for udev: attach a port if its policy says so\n"
		"  udev-node NODE        for udev: a node's links, owner, group and mode\n"
		"  --version, --help\n"
		"\n"
		"exit: 0 done, 1 nothing to do (not attached, policy says no), 2 error\n"
		"policy: " VPORTX_POLICY_LIBDIR "/policy.conf, /etc/vportx/policy.conf,\n"
		"        /etc/vportx/policy.d/*.conf (see vportxctl(8))\n");
	return code;
}

static const struct {
	const char *name;
	int (*fn)(struct ctx *c, int argc, char **argv);
} commands[] = {
	{ "attach", cmd_attach },	{ "detach", cmd_detach },
	{ "claim", cmd_claim },		{ "release", cmd_release },
	{ "list", cmd_list },		{ "status", cmd_status },
	{ "ports", cmd_ports },		{ "policy", cmd_policy },
	{ "udev-port", cmd_udev_port },	{ "udev-node", cmd_udev_node },
};

/* Take --json wherever it is; the rest keeps its order. */
static int strip_json(struct ctx *c, int argc, char **argv)
{
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		if (i && !strcmp(argv[i], "--json"))
			c->json = true;
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return n;
}

int main(int argc, char **argv)
{
	struct ctx c = { .root = getenv("VPORTX_POLICY_ROOT") ?: "" };
	size_t i;
	int ret;

	argc = strip_json(&c, argc, argv);
	if (argc < 2)
		return print_usage(stderr, EXIT_ERROR);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return print_usage(stdout, EXIT_SUCCESS);
	if (!strcmp(argv[1], "--version"))
		return puts("vportxctl " VPORTX_VERSION) < 0;
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			break;
	if (i == ARRAY_SIZE(commands)) {
		fprintf(stderr, "vportxctl: %s: unknown command\n", argv[1]);
		return print_usage(stderr, EXIT_ERROR);
	}
	c.udev = udev_new();
	if (!c.udev)
		return fail("udev", errno ? errno : ENOMEM);
	ret = commands[i].fn(&c, argc - 1, argv + 1);
	udev_unref(c.udev);
	return ret;
}
