// SPDX-License-Identifier: GPL-2.0
/*
 * Claims: which virtio-console devices vportx drives itself (the direct
 * backend), with the settings of their ports' nodes. VPORTX_IOC_CLAIM
 * puts a device on the list and binds it to vportx's virtio driver
 * (direct.c), whose probe refuses every device not on it; a release, and
 * unloading vportx, take it off and hand it back to the driver core,
 * which finds it virtio_console again.
 *
 * Locking: claim_op_lock makes one claim or release at a time, and is
 * taken before anything the bind takes (the device's lock, the driver
 * core's); claims_lock guards the list alone, for probe.
 */

#include "vportx.h"

#include <linux/device.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

/* A claimed device, with a reference, and its nodes' settings. */
struct vportx_claim_entry {
	struct list_head list;
	struct device *dev;
	u32 index;
	struct vportx_params params;	/* for the nodes of its ports */
};

static DEFINE_MUTEX(claim_op_lock);
static DEFINE_MUTEX(claims_lock);
static LIST_HEAD(claims);
/* vportx's virtio driver, which claimed devices are bound to. */
static struct device_driver *claim_drv;

static struct vportx_claim_entry *claim_find(u32 index)
{
	struct vportx_claim_entry *c;

	lockdep_assert_held(&claims_lock);
	list_for_each_entry(c, &claims, list)
		if (c->index == index)
			return c;
	return NULL;
}

/* Claimed: the parameters its nodes are to have. For probe. */
bool vportx_claim_params(u32 index, struct vportx_params *params)
{
	struct vportx_claim_entry *c;

	mutex_lock(&claims_lock);
	c = claim_find(index);
	if (c)
		*params = c->params;
	mutex_unlock(&claims_lock);
	return c;
}

static int claim_add(u32 index, struct device *dev,
		     const struct vportx_params *params)
{
	struct vportx_claim_entry *c;
	int ret = -EBUSY;

	mutex_lock(&claims_lock);
	if (claim_find(index))
		goto out;
	ret = -ENOMEM;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		goto out;
	c->index = index;
	c->dev = dev;
	c->params = *params;
	list_add(&c->list, &claims);
	ret = 0;
out:
	mutex_unlock(&claims_lock);
	return ret;
}

/* Take @index off the list: its device, with the claim's reference. */
static struct device *claim_del(u32 index)
{
	struct vportx_claim_entry *c;
	struct device *dev = NULL;

	mutex_lock(&claims_lock);
	c = claim_find(index);
	if (c) {
		list_del(&c->list);
		dev = c->dev;
		kfree(c);
	}
	mutex_unlock(&claims_lock);
	return dev;
}

/* Unbind from vportx, and let the driver core find virtio_console. */
static void device_rebind(struct device *dev)
{
	device_release_driver(dev);
	if (device_attach(dev) < 0)
		dev_warn(dev, "no driver took it back\n");
}

/*
 * Unbind virtio@index from its driver and bind it to vportx's. EBUSY
 * while a node of vportx is on one of its ports. Releases in the
 * background remove their nodes (node.c): their work is waited for
 * first, not under claim_op_lock, so only a node still open or attached
 * keeps the device.
 */
int vportx_claim(u32 index, const struct vportx_params *params)
{
	struct device *dev;
	int ret;

	flush_workqueue(vportx_wq);
	mutex_lock(&claim_op_lock);
	dev = vportx_stock_device(index);
	ret = PTR_ERR_OR_ZERO(dev);
	if (ret)
		goto err_unlock;
	ret = -EBUSY;
	if (vportx_node_on_device(index))
		goto err_put;
	ret = claim_add(index, dev, params);
	if (ret)
		goto err_put;
	device_release_driver(dev);
	ret = device_driver_attach(claim_drv, dev);
	if (ret)
		goto err_unclaim;
	mutex_unlock(&claim_op_lock);
	return 0;

err_unclaim:
	claim_del(index);
	device_rebind(dev);
err_put:
	put_device(dev);
err_unlock:
	mutex_unlock(&claim_op_lock);
	return ret;
}

/*
 * EBUSY while a closed node of the device holds bytes the host sent and
 * nobody read: they would go with the device, and virtio_console gets it
 * reset. An open node's reader still reads its own after the release.
 */
int vportx_claim_release(u32 index)
{
	struct device *dev;
	int ret = -EBUSY;

	mutex_lock(&claim_op_lock);
	if (vportx_node_unread_closed(index))
		goto out;
	dev = claim_del(index);
	ret = -ENXIO;
	if (!dev)
		goto out;
	device_rebind(dev);
	put_device(dev);
	ret = 0;
out:
	mutex_unlock(&claim_op_lock);
	return ret;
}

/* @drv: vportx's virtio driver, registered. */
void vportx_claim_init(struct device_driver *drv)
{
	claim_drv = drv;
}

/* Module exit, the driver gone: every claimed device back to the core. */
void vportx_claim_uninit(void)
{
	struct vportx_claim_entry *c, *next;

	mutex_lock(&claim_op_lock);
	list_for_each_entry_safe(c, next, &claims, list) {
		list_del(&c->list);
		device_rebind(c->dev);
		put_device(c->dev);
		kfree(c);
	}
	mutex_unlock(&claim_op_lock);
}
