/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vportxctl internals: finding ports and nodes through libudev
 * (devices.c), JSON output (json.c), and the exit codes every command
 * shares.
 */
#ifndef _VPORTXCTL_H
#define _VPORTXCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include <libudev.h>

/*
 * Like losetup: EXIT_SUCCESS (0) done, also when there was nothing to
 * list or to do; EXIT_FAILURE (1) the operation failed, or what it names
 * is not there (no such port, not attached, not claimed); EXIT_USAGE (2)
 * the command line is wrong, before anything was done.
 */
#define EXIT_USAGE 2

#define VPORTX_CONTROL "/dev/vportx-control"
/* Where nodes get their names: /dev/vportx/NAME, /dev/vportx/by-path/. */
#define VPORTX_LINK_DIR "vportx"

/* devices.c */

/* The value of sysfs attribute @attr of @dev, or "" if it has none. */
const char *vx_attr(struct udev_device *dev, const char *attr);
/* The port's name, "" for an unnamed port. */
const char *vx_port_name(struct udev_device *port);
/*
 * The virtio-serial port @spec names: /dev/vportNpM, a link to it such as
 * /dev/virtio-ports/NAME, vportNpM, or a port name. NULL with errno set
 * (ENOENT when there is no such port).
 */
struct udev_device *vx_port_find(struct udev *udev, const char *spec);
/*
 * The vportx data node @spec names: /dev/vportxNpM, a link to it such as
 * /dev/vportx/NAME, vportxNpM, or anything vx_port_find() takes, for the
 * node attached over that port. NULL with errno set: ENOENT if the port
 * is not attached, ENODEV if @spec names no port at all.
 */
struct udev_device *vx_node_find(struct udev *udev, const char *spec);
/* The node attached over @port, or NULL. */
struct udev_device *vx_node_of_port(struct udev *udev,
				    struct udev_device *port);
/*
 * The port a node is attached over (its "source"), or NULL; a direct
 * node is its own port (it has the name, its parent the device).
 */
struct udev_device *vx_port_of_node(struct udev *udev,
				    struct udev_device *node);
/*
 * The devices of @subsystem sorted by name (vport1p10 after vport1p9),
 * NULL-terminated; free with vx_devices_free(). NULL with errno on error.
 */
struct udev_device **vx_devices(struct udev *udev, const char *subsystem);
void vx_devices_free(struct udev_device **devs);
/*
 * @name made safe as a link name under /dev/vportx/: every byte outside
 * udev's set [A-Za-z0-9#+-.:=@_] becomes '_', and "." or ".." too. False
 * for an empty name.
 */
bool vx_link_name(const char *name, char *buf, size_t len);
/*
 * A stable link for @port whatever its name: by-path/pci-DOMAIN:BUS:DEV.FN-
 * portM, from the PCI device the port's virtio device sits on (or the
 * virtio device itself when there is no PCI parent). False if unknown.
 */
bool vx_bypath_name(struct udev_device *port, char *buf, size_t len);

/* services.c */

#define VX_UNITS_MAX 16

/* Systemd services, by unit name. */
struct vx_units {
	char *name[VX_UNITS_MAX];
	size_t n;
};

/* Whether systemd runs this system, and we may ask it to do things. */
bool vx_systemd(void);
/* Add to @u the services with a process that has char device @rdev open. */
void vx_holders(dev_t rdev, struct vx_units *u);
/* The same for any of the @n devices @rdevs (0 entries are skipped). */
void vx_holders_of(const dev_t *rdevs, size_t n, struct vx_units *u);
/* systemctl stop them: its exit status. */
int vx_units_stop(struct vx_units *u);
/* Once udev is done with the new node (settle), systemctl start them. */
void vx_units_start(struct vx_units *u);
void vx_units_free(struct vx_units *u);
/* Run @argv, a program in PATH, and wait: its exit status, or -1. */
int vx_run(char *const argv[]);

/* json.c */

/* @s as a JSON string, quotes included; invalid UTF-8 becomes U+FFFD. */
void json_string(FILE *out, const char *s);
/* A decimal sysfs value as a JSON number, anything else as null. */
void json_number(FILE *out, const char *s);

#endif /* _VPORTXCTL_H */
