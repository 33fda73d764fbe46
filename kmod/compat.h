/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel interfaces that differ between the kernels vportx builds
 * against, in one place. Kbuild probes the headers rather than comparing
 * version numbers, so a backport is handled too.
 */
#ifndef _VPORTX_COMPAT_H
#define _VPORTX_COMPAT_H

#include <linux/device.h>

/* Before 6.4, class_create() took the owning module first. */
#ifdef VPORTX_CLASS_CREATE_HAS_OWNER
#define vportx_class_create(name) class_create(THIS_MODULE, name)
#else
#define vportx_class_create(name) class_create(name)
#endif

#endif /* _VPORTX_COMPAT_H */
