// SPDX-License-Identifier: GPL-2.0
/*
 * Finding virtio-serial ports (subsystem virtio-ports, virtio_console's
 * /dev/vportNpM) and vportx data nodes (subsystem vportx, /dev/vportxNpM)
 * from what a user or udev hands vportxctl, and naming them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vportxctl.h"

const char *vx_attr(struct udev_device *dev, const char *attr)
{
	const char *v = udev_device_get_sysattr_value(dev, attr);

	return v ? v : "";
}

const char *vx_port_name(struct udev_device *port)
{
	return vx_attr(port, "name");
}

static bool in_subsystem(struct udev_device *dev, const char *subsystem)
{
	const char *s = udev_device_get_subsystem(dev);

	return s && !strcmp(s, subsystem);
}

/* The device of the character device node at @path, if in @subsystem. */
static struct udev_device *from_devnode(struct udev *udev, const char *path,
					const char *subsystem)
{
	struct udev_device *dev;
	struct stat st;

	if (stat(path, &st))
		return NULL;
	if (!S_ISCHR(st.st_mode)) {
		errno = ENODEV;
		return NULL;
	}
	dev = udev_device_new_from_devnum(udev, 'c', st.st_rdev);
	if (dev && !in_subsystem(dev, subsystem)) {
		udev_device_unref(dev);
		dev = NULL;
		errno = ENODEV;
	}
	return dev;
}

static int cmp_devices(const void *a, const void *b)
{
	return strverscmp(udev_device_get_sysname(*(struct udev_device **)a),
			  udev_device_get_sysname(*(struct udev_device **)b));
}

static size_t count_entries(struct udev_list_entry *first)
{
	struct udev_list_entry *e;
	size_t n = 0;

	udev_list_entry_foreach(e, first)
		n++;
	return n;
}

static struct udev_device **devices_of(struct udev *udev,
				       struct udev_enumerate *en)
{
	struct udev_list_entry *e, *first = udev_enumerate_get_list_entry(en);
	struct udev_device **devs = calloc(count_entries(first) + 1,
					   sizeof(*devs));
	size_t n = 0;

	if (!devs)
		return NULL;
	udev_list_entry_foreach(e, first) {
		devs[n] = udev_device_new_from_syspath(udev,
						       udev_list_entry_get_name(e));
		if (devs[n])
			n++;
	}
	qsort(devs, n, sizeof(*devs), cmp_devices);
	return devs;
}

struct udev_device **vx_devices(struct udev *udev, const char *subsystem)
{
	struct udev_enumerate *en = udev_enumerate_new(udev);
	struct udev_device **devs = NULL;

	if (!en)
		return NULL;
	if (udev_enumerate_add_match_subsystem(en, subsystem) >= 0 &&
	    udev_enumerate_scan_devices(en) >= 0)
		devs = devices_of(udev, en);
	udev_enumerate_unref(en);
	return devs;
}

void vx_devices_free(struct udev_device **devs)
{
	size_t i;

	for (i = 0; devs && devs[i]; i++)
		udev_device_unref(devs[i]);
	free(devs);
}

static struct udev_device *port_by_name(struct udev *udev, const char *name)
{
	struct udev_device **devs = vx_devices(udev, "virtio-ports");
	struct udev_device *found = NULL;
	size_t i;

	if (!devs)
		return NULL;
	for (i = 0; devs[i] && !found; i++)
		if (!strcmp(vx_port_name(devs[i]), name))
			found = udev_device_ref(devs[i]);
	vx_devices_free(devs);
	if (!found)
		errno = ENOENT;
	return found;
}

struct udev_device *vx_port_find(struct udev *udev, const char *spec)
{
	struct udev_device *dev;

	if (!*spec) {
		errno = ENOENT;
		return NULL;
	}
	if (spec[0] == '/')
		return from_devnode(udev, spec, "virtio-ports");
	dev = udev_device_new_from_subsystem_sysname(udev, "virtio-ports",
						     spec);
	return dev ? dev : port_by_name(udev, spec);
}

struct udev_device *vx_node_of_port(struct udev *udev,
				    struct udev_device *port)
{
	const char *sysname = udev_device_get_sysname(port);
	char node[64];

	/* vportx names its node after the port: vportNpM -> vportxNpM. */
	if (strncmp(sysname, "vport", 5))
		return NULL;
	snprintf(node, sizeof(node), "vportx%s", sysname + 5);
	return udev_device_new_from_subsystem_sysname(udev, "vportx", node);
}

/*
 * A direct node has no virtio_console port: it is its own, with the
 * port's name in its "name" and the virtio device as its parent.
 */
struct udev_device *vx_port_of_node(struct udev *udev,
				    struct udev_device *node)
{
	if (!strcmp(vx_attr(node, "backend"), "direct"))
		return udev_device_ref(node);
	return udev_device_new_from_subsystem_sysname(udev, "virtio-ports",
						      vx_attr(node, "source"));
}

struct udev_device *vx_node_find(struct udev *udev, const char *spec)
{
	struct udev_device *dev, *port;

	if (spec[0] == '/') {
		dev = from_devnode(udev, spec, "vportx");
		if (dev || errno != ENODEV)
			return dev;
	} else {
		dev = udev_device_new_from_subsystem_sysname(udev, "vportx",
							     spec);
		if (dev)
			return dev;
	}
	port = vx_port_find(udev, spec);
	if (!port) {
		/* Not even a port: an error, not "not attached". */
		if (errno == ENOENT)
			errno = ENODEV;
		return NULL;
	}
	dev = vx_node_of_port(udev, port);
	udev_device_unref(port);
	if (!dev)
		errno = ENOENT;
	return dev;
}

bool vx_link_name(const char *name, char *buf, size_t len)
{
	static const char ok[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789#+-.:=@_";
	size_t i;

	if (!*name || strlen(name) >= len)
		return false;
	for (i = 0; name[i]; i++)
		buf[i] = strchr(ok, name[i]) ? name[i] : '_';
	buf[i] = '\0';
	/* "." and ".." would name the directory itself or its parent. */
	if (!strcmp(buf, ".") || !strcmp(buf, ".."))
		memset(buf, '_', i);
	return true;
}

bool vx_bypath_name(struct udev_device *port, char *buf, size_t len)
{
	struct udev_device *parent;
	const char *sysname = udev_device_get_sysname(port);
	const char *nr = strrchr(sysname, 'p');
	const char *bus = "pci";

	parent = udev_device_get_parent_with_subsystem_devtype(port, "pci",
							       NULL);
	if (!parent) {
		bus = "virtio";
		parent = udev_device_get_parent(port);
	}
	if (!parent || !nr || nr == sysname)
		return false;
	return snprintf(buf, len, "by-path/%s-%s-port%s", bus,
			udev_device_get_sysname(parent), nr + 1) < (int)len;
}
