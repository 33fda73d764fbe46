/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel interfaces that differ between the kernels vportx builds
 * against, in one place. Kbuild probes the headers rather than comparing
 * version numbers, so a backport is handled too.
 */
#ifndef _VPORTX_COMPAT_H
#define _VPORTX_COMPAT_H

#include <linux/device.h>
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
