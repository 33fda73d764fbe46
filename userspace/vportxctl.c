// SPDX-License-Identifier: GPL-2.0
/*
 * vportxctl: attach virtio-serial ports to vportx and name their nodes.
 *
 * Only `ports` exists so far: it lists the virtio-serial ports udev knows,
 * which is what the demo and the rig show. Attach, detach and policy arrive
 * with the control device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libudev.h>

#define EXIT_NOTHING 1
#define EXIT_ERROR 2

static const char *attr_or(struct udev_device *dev, const char *attr,
			   const char *dflt)
{
	const char *v = udev_device_get_sysattr_value(dev, attr);

	return v && *v ? v : dflt;
}

static void print_port(struct udev_device *dev)
{
	const char *node = udev_device_get_devnode(dev);
	const char *name = attr_or(dev, "name", "-");

	printf("%-20s %s\n", node ? node : udev_device_get_sysname(dev), name);
}

/* vport2p10 after vport2p9: the numbers in the names compare as numbers. */
static int cmp_syspath(const void *a, const void *b)
{
	return strverscmp(*(const char * const *)a, *(const char * const *)b);
}

/* The ports' syspaths, sorted; they live as long as @en. NULL on error. */
static const char **port_syspaths(struct udev_enumerate *en, size_t *n)
{
	struct udev_list_entry *e, *first;
	const char **paths;

	if (udev_enumerate_add_match_subsystem(en, "virtio-ports") < 0 ||
	    udev_enumerate_scan_devices(en) < 0)
		return NULL;
	first = udev_enumerate_get_list_entry(en);
	*n = 0;
	udev_list_entry_foreach(e, first)
		(*n)++;
	paths = calloc(*n + 1, sizeof(*paths));
	if (!paths)
		return NULL;
	*n = 0;
	udev_list_entry_foreach(e, first)
		paths[(*n)++] = udev_list_entry_get_name(e);
	qsort(paths, *n, sizeof(*paths), cmp_syspath);
	return paths;
}

static int cmd_ports(struct udev *udev)
{
	struct udev_enumerate *en = udev_enumerate_new(udev);
	struct udev_device *dev;
	size_t i, n;
	const char **paths = en ? port_syspaths(en, &n) : NULL;

	if (!paths) {
		fprintf(stderr, "vportxctl: ports: %s\n", strerror(errno ? errno : ENOMEM));
		udev_enumerate_unref(en);
		return EXIT_ERROR;
	}
	for (i = 0; paths[i]; i++) {
		dev = udev_device_new_from_syspath(udev, paths[i]);
		if (dev) {
			print_port(dev);
			udev_device_unref(dev);
		}
	}
	free(paths);
	udev_enumerate_unref(en);
	return i ? EXIT_SUCCESS : EXIT_NOTHING;
}

static int usage(FILE *out, int code)
{
	fprintf(out,
		"usage: vportxctl ports\n"
		"\n"
		"  ports   list virtio-serial ports: device node and port name\n"
		"\n"
		"exit: 0 ok, 1 nothing to list, 2 error\n");
	return code;
}

int main(int argc, char **argv)
{
	struct udev *udev;
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(stdout, EXIT_SUCCESS);
	if (argc != 2 || strcmp(argv[1], "ports")) {
		if (argc >= 2)
			fprintf(stderr, "vportxctl: %s: unknown command\n", argv[1]);
		return usage(stderr, EXIT_ERROR);
	}
	udev = udev_new();
	if (!udev) {
		fprintf(stderr, "vportxctl: udev: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	ret = cmd_ports(udev);
	udev_unref(udev);
	return ret;
}
