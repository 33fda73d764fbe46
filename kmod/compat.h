/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel interfaces that differ between the kernels vportx builds
 * against (6.1 to 7.2, Documentation/support.rst), in one place. Kbuild
 * probes the headers rather than comparing version numbers, so a
 * backport is handled too. Each shim says which kernel changed what.
 * Kernels before 6.1 never get here: kmod/Kbuild stops their build
 * before anything compiles.
 */
#ifndef _VPORTX_COMPAT_H
#define _VPORTX_COMPAT_H

#include <linux/device.h>
#include <linux/hrtimer.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>

/* Before 6.4, class_create() took the owning module first. */
#ifdef VPORTX_CLASS_CREATE_HAS_OWNER
#define vportx_class_create(name) class_create(THIS_MODULE, name)
#else
#define vportx_class_create(name) class_create(name)
#endif

/*
 * A class_interface callback's parameters, the device always named dev:
 * before 6.4 they also took the interface.
 */
#ifdef VPORTX_CLASS_INTF_HAS_INTF
#define VPORTX_CLASS_INTF_DEV struct device *dev, struct class_interface *intf
#else
#define VPORTX_CLASS_INTF_DEV struct device *dev
#endif

/*
 * device_find_child()'s match function takes its data as const void *
 * since 6.14 (device_match_t), void * before. kCFI checks an indirect
 * call's type, so the function is declared with the one the kernel has
 * rather than cast.
 */
#ifdef VPORTX_FIND_CHILD_CONST
#define VPORTX_MATCH_DATA const void
#else
#define VPORTX_MATCH_DATA void
#endif

/*
 * hrtimer_setup() sets the callback with the clock since 6.13, and 6.15
 * removed hrtimer_init(), which left the callback to the caller.
 */
static inline void
vportx_hrtimer_setup(struct hrtimer *timer,
		     enum hrtimer_restart (*fn)(struct hrtimer *),
		     clockid_t clock, enum hrtimer_mode mode)
{
#ifdef VPORTX_HAS_HRTIMER_SETUP
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

/*
 * virtio_find_vqs() takes one array of struct virtqueue_info since 6.11,
 * two arrays (callbacks, names) before.
 */
static inline int vportx_find_vqs(struct virtio_device *vdev,
				  unsigned int nvqs, struct virtqueue *vqs[],
				  vq_callback_t *callbacks[],
				  const char *const names[])
{
#ifdef VPORTX_HAS_VQ_INFO
	struct virtqueue_info *info = kcalloc(nvqs, sizeof(*info), GFP_KERNEL);
	unsigned int i;
	int ret;

	if (!info)
		return -ENOMEM;
	for (i = 0; i < nvqs; i++) {
		info[i].name = names[i];
		info[i].callback = callbacks[i];
	}
	ret = virtio_find_vqs(vdev, nvqs, vqs, info, NULL);
	kfree(info);
	return ret;
#else
	return virtio_find_vqs(vdev, nvqs, vqs, callbacks, names, NULL);
#endif
}

#endif /* _VPORTX_COMPAT_H */
