/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vportx: accelerated character devices over virtio-serial ports.
 *
 * The control device /dev/vportx-control (root only, CAP_SYS_ADMIN) attaches
 * a virtio-serial port to vportx; vportx then exposes it as a data node
 * /dev/vportxNpM (class "vportx"), mirroring the stock /dev/vportNpM.
 *
 * VPORTX_IOC_ATTACH (struct vportx_attach, in/out)
 *	Attach the port at @fd: a /dev/vportNpM node of virtio_console (or
 *	/dev/virtio-ports/NAME, which links to it), best opened with O_PATH,
 *	which opens nothing: the port stays closed for the host until the
 *	hold policy opens it (Documentation/vportx.rst). @flags must be a
 *	subset of VPORTX_ATTACH_F_ALL, @hold one of VPORTX_HOLD_*, @tx_limit
 *	0 (the default) or a byte count in [VPORTX_TX_LIMIT_MIN,
 *	VPORTX_TX_LIMIT_MAX], @tx_low 0 (half the limit) or a byte count
 *	below the limit. write() queues up to @tx_limit bytes the port has
 *	not taken yet; a writer that finds the queue full waits (or gets
 *	EAGAIN) until it is down to @tx_low. On success the kernel fills
 *	@minor (the data node's minor), @port_dev and @port_nr (the N and M
 *	of vportNpM).
 *	The caller's fd stays the caller's: vportx opens the port itself,
 *	except that with VPORTX_HOLD_ALWAYS a port open read-write at @fd
 *	is taken over as it is.
 *	Errors: EPERM without CAP_SYS_ADMIN; EBADF if @fd is not open;
 *	EINVAL for unknown flags, non-zero reserved fields, a bad @hold,
 *	@tx_limit or @tx_low, or a file that is not a virtio-serial port (a
 *	regular file, /dev/null, a tty, a directory, a vportx node, a port
 *	open read-only); EBUSY if the port is already attached, or with
 *	VPORTX_HOLD_ALWAYS somebody else has it open; ENXIO with
 *	VPORTX_HOLD_ALWAYS for a console port; EEXIST while the node
 *	of an unplugged port at the same place (same N and M) is still
 *	there, open or on its way out; ENOSPC when every minor is taken;
 *	EFAULT for a bad pointer.
 *
 * VPORTX_IOC_DETACH (struct vportx_detach, in)
 *	Detach the node with @minor and remove it. EBUSY while it is open,
 *	or while its port holds bytes the host sent and nobody read, which
 *	closing it would drop (VPORTX_HOLD_ALWAYS, stacked); ENXIO if there
 *	is no such node, EINVAL for flags or reserved bits,
 *	EOPNOTSUPP for a node of a claimed device's port (it goes with its
 *	port: release the device).
 *
 * VPORTX_IOC_INFO (struct vportx_info, in/out)
 *	Describe the node with @minor, or with VPORTX_INFO_F_NEXT the first
 *	node whose minor is >= @minor (iterate from 0, adding 1 each time).
 *	ENXIO when there is none. @rx_budget is 0 for a stacked node.
 *
 * VPORTX_IOC_CLAIM (struct vportx_claim, in)
 *	Hand the virtio-console device virtio@index to vportx's own virtio
 *	driver (the direct backend): vportx unbinds it from its driver
 *	(virtio_console) and binds it to "vportx". vportx's driver never
 *	binds a device that was not claimed. Every port of the device
 *	disappears from virtio_console at once: a process holding one of its
 *	/dev/vportNpM open gets ENODEV from it. Every port but a console
 *	gets a data node /dev/vportxNpM (backend VPORTX_BACKEND_DIRECT) with
 *	@hold, @tx_limit and @tx_low as VPORTX_IOC_ATTACH takes them, and
 *	@rx_budget, 0 (the default) or a byte count in
 *	[VPORTX_RX_BUDGET_MIN, VPORTX_RX_BUDGET_MAX]: the receive buffers the
 *	port may hold, posted or filled and not yet read. These are where each
 *	node starts; each node's own may be changed afterwards in its sysfs
 *	directory (Documentation/vportx.rst).
 *	Errors: EPERM without CAP_SYS_ADMIN; EINVAL for flags, reserved
 *	bits, a bad @hold, @tx_limit, @tx_low or @rx_budget, or a virtio
 *	device that is not a console; ENODEV if there is
 *	no virtio@index; EBUSY if it is claimed already, or a port of it is
 *	attached to vportx with VPORTX_IOC_ATTACH, or a node of its last
 *	claim is still open; any error of the driver's
 *	probe (then the device goes back to virtio_console).
 *
 * VPORTX_IOC_RELEASE (struct vportx_release, in)
 *	Give the device back: unbind it from vportx and let the driver core
 *	find it a driver again (virtio_console). Its nodes are unplugged: an
 *	open one reads what it received, then says ENODEV, and goes at its
 *	last close. EBUSY while a closed node holds bytes the host sent and
 *	nobody read (they would go with the device); ENXIO if it is not
 *	claimed; EINVAL for flags or reserved bits. Unloading vportx
 *	releases every claimed device the same way, without the EBUSY.
 *
 * Every structure is made of __u32 and __u64 only; reserved fields must be
 * zero on input and are zero on output. Unknown ioctls get ENOTTY.
 *
 * Compatibility. A structure grows only into its reserved fields: a new
 * input field comes with a new flag bit that says it is set (added to the
 * command's _F_ALL mask), so an old kernel refuses it with EINVAL instead
 * of ignoring it, and an old program, which leaves the field zero, gets
 * the old behaviour; a new output field is one an old kernel leaves zero.
 * Such growth changes neither the ioctl numbers (they encode the size)
 * nor VPORTX_UAPI_VERSION. Anything else is a new command. Fields of new
 * structures put every input before the first output.
 */

#ifndef _UAPI_LINUX_VPORTX_H
#define _UAPI_LINUX_VPORTX_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * Bumped only when a command or structure below changes incompatibly,
 * never for growth by the rule above. 3: VPORTX_IOC_RELEASE takes its
 * own structure.
 */
#define VPORTX_UAPI_VERSION 3

#define VPORTX_CONTROL_NAME "vportx-control"
#define VPORTX_IOCTL_TYPE 0xB8

/* Backends: how vportx reaches the port. */
#define VPORTX_BACKEND_STACKED 0	/* over virtio_console's /dev/vportNpM */
#define VPORTX_BACKEND_DIRECT 1		/* on a device claimed by vportx */

/* When vportx keeps the port itself open. */
#define VPORTX_HOLD_OPEN 0	/* only while the data node is open */
#define VPORTX_HOLD_ALWAYS 1	/* from attach to detach */

#define VPORTX_ATTACH_F_ALL 0U	/* no attach flags are defined yet */

#define VPORTX_TX_LIMIT_DEFAULT (1U << 20)
#define VPORTX_TX_LIMIT_MIN (1U << 12)
#define VPORTX_TX_LIMIT_MAX (1U << 28)

#define VPORTX_RX_BUDGET_DEFAULT (1U << 18)
#define VPORTX_RX_BUDGET_MIN (1U << 12)
#define VPORTX_RX_BUDGET_MAX (1U << 28)

struct vportx_attach {
	__u32 fd;		/* in: an open virtio-serial port */
	__u32 flags;		/* in: VPORTX_ATTACH_F_* */
	__u32 hold;		/* in: VPORTX_HOLD_* */
	__u32 tx_limit;		/* in: bytes, 0 for the default */
	__u32 minor;		/* out: the data node's minor */
	__u32 port_dev;		/* out: N of vportNpM */
	__u32 port_nr;		/* out: M of vportNpM */
	__u32 tx_low;		/* in: bytes, 0 for tx_limit / 2 */
	__u64 __reserved[4];	/* zero */
};

#define VPORTX_DETACH_F_ALL 0U	/* no detach flags are defined yet */

struct vportx_detach {
	__u32 minor;		/* in */
	__u32 flags;		/* in: VPORTX_DETACH_F_* */
	__u64 __reserved[2];	/* zero */
};

#define VPORTX_INFO_F_NEXT (1U << 0)
#define VPORTX_INFO_F_ALL VPORTX_INFO_F_NEXT

struct vportx_info {
	__u32 minor;		/* in: which node; out: the node described */
	__u32 flags;		/* in: VPORTX_INFO_F_* */
	__u32 backend;		/* out: VPORTX_BACKEND_* */
	__u32 hold;		/* out: VPORTX_HOLD_* */
	__u32 port_dev;		/* out: N of vportNpM */
	__u32 port_nr;		/* out: M of vportNpM */
	__u32 tx_limit;		/* out: bytes */
	__u32 open_count;	/* out: how many open files the node has */
	__u64 rx_bytes;		/* out: read from the port since attach */
	__u64 tx_bytes;		/* out: handed to the port since attach */
	__u32 tx_low;		/* out: bytes */
	__u32 rx_budget;	/* out: bytes; 0 for the stacked backend */
	__u64 tx_queued;	/* out: written, not yet handed to the port */
	__u64 tx_stalls;	/* out: writes that found the queue full */
	__u64 tx_dropped;	/* out: queued, then dropped at close */
	__u64 __reserved[4];	/* zero */
};

#define VPORTX_CLAIM_F_ALL 0U	/* no claim flags are defined yet */

struct vportx_claim {
	__u32 index;		/* in: N of the virtio device virtioN */
	__u32 flags;		/* in: VPORTX_CLAIM_F_* */
	__u32 hold;		/* in: VPORTX_HOLD_*, for every port */
	__u32 tx_limit;		/* in: bytes, 0 for the default */
	__u32 tx_low;		/* in: bytes, 0 for tx_limit / 2 */
	__u32 rx_budget;	/* in: bytes, 0 for the default */
	__u64 __reserved[1];	/* zero */
};

#define VPORTX_RELEASE_F_ALL 0U	/* no release flags are defined yet */

struct vportx_release {
	__u32 index;		/* in: N of the virtio device virtioN */
	__u32 flags;		/* in: VPORTX_RELEASE_F_* */
	__u64 __reserved[2];	/* zero */
};

#define VPORTX_IOC_ATTACH _IOWR(VPORTX_IOCTL_TYPE, 0x00, struct vportx_attach)
#define VPORTX_IOC_DETACH _IOW(VPORTX_IOCTL_TYPE, 0x01, struct vportx_detach)
#define VPORTX_IOC_INFO _IOWR(VPORTX_IOCTL_TYPE, 0x02, struct vportx_info)
#define VPORTX_IOC_CLAIM _IOW(VPORTX_IOCTL_TYPE, 0x03, struct vportx_claim)
#define VPORTX_IOC_RELEASE _IOW(VPORTX_IOCTL_TYPE, 0x04, struct vportx_release)

#endif /* _UAPI_LINUX_VPORTX_H */
