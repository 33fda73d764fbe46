// SPDX-License-Identifier: GPL-2.0
/*
 * vportxctl: attach virtio-serial ports to vportx and name their nodes.
 *
 * Only `ports` exists so far: it lists the virtio-serial ports udev knows,
 * which is what the demo and the rig show. Attach, detach and policy arrive
 * with the control device.
 */
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

static int cmd_ports(struct udev *udev)
{
	struct udev_enumerate *en = udev_enumerate_new(udev);
	struct udev_list_entry *e;
	int n = 0;

	if (!en || udev_enumerate_add_match_subsystem(en, "virtio-ports") < 0 ||
	    udev_enumerate_scan_devices(en) < 0) {
		fprintf(stderr, "vportxctl: ports: %s\n", strerror(errno));
		udev_enumerate_unref(en);
		return EXIT_ERROR;
	}
	udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
		struct udev_device *dev = udev_device_new_from_syspath(udev,
					udev_list_entry_get_name(e));

		if (!dev)
			continue;
		print_port(dev);
		udev_device_unref(dev);
		n++;
	}
	udev_enumerate_unref(en);
	return n ? EXIT_SUCCESS : EXIT_NOTHING;
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
	if (argc != 2 || strcmp(argv[1], "ports"))
		return usage(stderr, EXIT_ERROR);
	udev = udev_new();
	if (!udev) {
		fprintf(stderr, "vportxctl: udev: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	ret = cmd_ports(udev);
	udev_unref(udev);
	return ret;
}
