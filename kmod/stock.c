// SPDX-License-Identifier: GPL-2.0
/*
 * What vportx knows of virtio_console, the stock driver: its console
 * devices (virtioN, which a claim takes from it) and their ports (the
 * device numbers of /dev/vportNpM, which the stacked backend attaches
 * over). Both backends ask here; neither asks the other.
 */

#include "vportx.h"

#include <linux/device.h>
#include <linux/string.h>
#include <linux/virtio.h>
#include <linux/virtio_ids.h>

/* virtio's bus is not exported: vportx's own virtio driver tells it. */
static struct device_driver *virtio_drv;

/* virtioN, with a reference, if it is a console device. */
struct device *vportx_stock_device(u32 index)
{
	struct device *dev;
	char name[24];

	snprintf(name, sizeof(name), "virtio%u", index);
	dev = bus_find_device_by_name(virtio_drv->bus, NULL, name);
	if (!dev)
		return ERR_PTR(-ENODEV);
	if (dev_to_virtio(dev)->id.device != VIRTIO_ID_CONSOLE) {
		put_device(dev);
		return ERR_PTR(-EINVAL);
	}
	return dev;
}

static int match_devt(struct device *dev, VPORTX_MATCH_DATA *devt)
{
	return dev->devt == *(const dev_t *)devt;
}

/*
 * The port of device number @devt that virtio_console made on virtio@index,
 * with a reference, or NULL. It is one if the device is a console that
 * virtio_console drives and one of its children has that number.
 * virtio_console may be built in (Debian's 6.12) or a module, so the
 * file's fops owner proves nothing; its device does. *@owner, unless
 * NULL, gets the driver's module (NULL when built in).
 */
struct device *vportx_stock_port(u32 index, dev_t devt,
				 struct module **owner)
{
	struct device *dev = vportx_stock_device(index), *port = NULL;
	struct device_driver *drv;

	if (IS_ERR(dev))
		return NULL;
	drv = READ_ONCE(dev->driver);
	if (drv && !strcmp(drv->name, "virtio_console")) {
		port = device_find_child(dev, &devt, match_devt);
		if (owner)
			*owner = drv->owner;
	}
	put_device(dev);
	return port;
}

/* @drv: a registered virtio driver, for its bus. */
void vportx_stock_init(struct device_driver *drv)
{
	virtio_drv = drv;
}
