/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vportx: accelerated character devices over virtio-serial ports.
 *
 * This header is the user-space interface of the vportx module. It is a
 * stub for now: the control device (/dev/vportx-control) and its ioctls
 * (attach, detach, info) are defined here when they are implemented, with
 * _IOW/_IOWR encoded commands, __u32/__u64 fields only, reserved fields
 * that must be zero and a flags mask that rejects unknown bits.
 */

#ifndef _UAPI_LINUX_VPORTX_H
#define _UAPI_LINUX_VPORTX_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Bumped whenever a command or structure below changes incompatibly. */
#define VPORTX_UAPI_VERSION 0

#endif /* _UAPI_LINUX_VPORTX_H */
