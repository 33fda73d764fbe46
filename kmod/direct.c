// SPDX-License-Identifier: GPL-2.0
/*
 * The direct backend's device: vportx as the virtio driver of the
 * virtio-console devices claimed for it (claim.c). Probe and remove, the
 * queues, suspend and resume, debugfs (vportx/virtioN shows what the
 * protocol learnt). The control queues are dctrl.c's, the protocol
 * dproto.c's, and each port's data path dport.c's, drx.c's and dtx.c's.
 *
 * vportx never takes a device by accident: its probe refuses every device
 * that VPORTX_IOC_CLAIM did not name, so virtio_console stays the driver
 * of every other console device, whichever module loads first.
 *
 * A suspend freezes a claimed device only once the host has taken what
 * its ports sent (direct_freeze()), and the restore gives it new queues
 * and tells it again which ports are open: no byte is lost or repeated.
 */

#include "direct.h"

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>

/* QEMU's limit for max_ports, and virtio_console's. */
#define DIRECT_MAX_PORTS 0x8000

static struct dentry *direct_debugfs;

/* Queues 0 and 1 are port 0's; ports 1 and up follow the control queues. */
static u32 vq_port(struct virtqueue *vq)
{
	return vq->index < VQ_CTRL_IN ? 0 : vq->index / 2 - 1;
}

/* An interrupt of a port's queue: @done on the port, if it has one. */
static void vq_port_done(struct virtqueue *vq,
			 void (*done)(struct vportx_dport *port))
{
	struct direct_dev *dd = vq->vdev->priv;
	struct vportx_dport *port;
	unsigned long flags;

	spin_lock_irqsave(&dd->ports_lock, flags);
	port = dd->ports[vq_port(vq)];
	if (port)
		done(port);
	spin_unlock_irqrestore(&dd->ports_lock, flags);
}

static void vq_in_done(struct virtqueue *vq)
{
	vq_port_done(vq, vportx_drx_done);
}

static void vq_out_done(struct virtqueue *vq)
{
	vq_port_done(vq, vportx_dtx_done);
}

/* Every queue of every port the device may have, and the control ones. */
static int direct_find_vqs(struct direct_dev *dd)
{
	unsigned int i, nvqs = (dd->max_ports + 1) * 2;
	vq_callback_t **callbacks;
	const char **names;
	int ret = -ENOMEM;

	dd->vqs = kcalloc(nvqs, sizeof(*dd->vqs), GFP_KERNEL);
	callbacks = kcalloc(nvqs, sizeof(*callbacks), GFP_KERNEL);
	names = kcalloc(nvqs, sizeof(*names), GFP_KERNEL);
	if (!dd->vqs || !callbacks || !names)
		goto out;
	for (i = 0; i < nvqs; i++) {
		callbacks[i] = i % 2 ? vq_out_done : vq_in_done;
		names[i] = i % 2 ? "output" : "input";
	}
	callbacks[VQ_CTRL_IN] = vportx_dproto_in_done;
	callbacks[VQ_CTRL_OUT] = vportx_dctrl_out_done;
	names[VQ_CTRL_IN] = "control-i";
	names[VQ_CTRL_OUT] = "control-o";
	ret = vportx_find_vqs(dd->vdev, nvqs, dd->vqs, callbacks, names);
	if (!ret)
		dd->ctrl_in = dd->vqs[VQ_CTRL_IN];
out:
	if (ret) {
		kfree(dd->vqs);
		dd->vqs = NULL;
	}
	kfree(names);
	kfree(callbacks);
	return ret;
}

/*
 * The queues go, with the control queues' buffers; the ports' buffers
 * went with the ports. Nothing to do if a freeze took them already.
 */
static void direct_del_vqs(struct direct_dev *dd)
{
	if (!dd->vqs)
		return;
	vportx_dctrl_drop(dd);
	dd->vdev->config->del_vqs(dd->vdev);
	kfree(dd->vqs);
	dd->vqs = NULL;
	dd->ctrl_in = NULL;
}

/*
 * Stop the device for good before anything of ours is freed. The reset
 * waits only for interrupt handlers already running; an interrupt still
 * on its way to a CPU runs after it, and would queue the control work
 * again after cancel_work_sync(), on memory about to be freed. A broken
 * virtqueue makes no more callbacks, so the device is broken first, as
 * virtcons_remove() does.
 */
static void direct_stop(struct direct_dev *dd)
{
	struct virtio_device *vdev = dd->vdev;
	u32 id;

	/* Keep what arrived for the readers: a broken queue hides it. */
	mutex_lock(&dd->lock);
	dd_ports_each(dd, vportx_dport_gone);
	mutex_unlock(&dd->lock);
	virtio_break_device(vdev);
	virtio_reset_device(vdev);
	cancel_work_sync(&dd->ctrl_work);
	mutex_lock(&dd->lock);
	for (id = 0; id < dd->max_ports; id++)
		if (dd_port(dd, id))
			vportx_dproto_remove(dd, id);
	mutex_unlock(&dd->lock);
	direct_del_vqs(dd);
}

static int ports_show(struct seq_file *m, void *v)
{
	struct direct_dev *dd = m->private;
	struct vportx_dport *port;
	u32 id;

	mutex_lock(&dd->lock);
	for (id = 0; id < dd->max_ports; id++) {
		port = dd_port(dd, id);
		if (port)
			seq_printf(m, "%u %s %d %d\n", id, port->name ?: "-",
				   port->host_connected, port->console);
	}
	mutex_unlock(&dd->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ports);

static struct direct_dev *direct_alloc(struct virtio_device *vdev)
{
	struct direct_dev *dd;
	u32 max_ports;

	max_ports = virtio_cread32(vdev, offsetof(struct virtio_console_config,
						  max_nr_ports));
	if (!max_ports || max_ports > DIRECT_MAX_PORTS) {
		dev_err(&vdev->dev, "max_nr_ports %u out of range\n",
			max_ports);
		return ERR_PTR(-EINVAL);
	}
	dd = kvzalloc(struct_size(dd, ports, max_ports), GFP_KERNEL);
	if (!dd)
		return ERR_PTR(-ENOMEM);
	dd->vdev = vdev;
	dd->max_ports = max_ports;
	spin_lock_init(&dd->ctrl_out_lock);
	spin_lock_init(&dd->ports_lock);
	INIT_WORK(&dd->ctrl_work, vportx_dproto_work);
	mutex_init(&dd->lock);
	return dd;
}

/* Its ports and queues went with direct_stop(). */
static void direct_free(struct direct_dev *dd)
{
	kvfree(dd);
}

/* The queues, and buffers for the device's messages: all or none. */
static int direct_queues(struct direct_dev *dd)
{
	int ret = direct_find_vqs(dd);

	if (ret)
		return ret;
	ret = vportx_dctrl_in_fill(dd);
	if (ret)
		direct_del_vqs(dd);
	return ret;
}

/*
 * DRIVER_OK, and DEVICE_READY, which the device answers with a PORT_ADD
 * for each port. The control work may run from now on: a host came or
 * went. A restored device's ports go on first (vportx_dport_resume()),
 * so the work finds every port with its queues.
 */
static int direct_ready(struct direct_dev *dd)
{
	virtio_device_ready(dd->vdev);
	vportx_dctrl_out_set(dd, dd->vqs[VQ_CTRL_OUT]);
	mutex_lock(&dd->lock);
	dd_ports_each(dd, vportx_dport_resume);
	dd->frozen = false;
	virtqueue_kick(dd->ctrl_in);
	mutex_unlock(&dd->lock);
	return vportx_dctrl_send(dd, VIRTIO_CONSOLE_BAD_ID,
			 VIRTIO_CONSOLE_DEVICE_READY, 1);
}

#ifdef CONFIG_PM_SLEEP
/* How long a freeze waits for the host to take what the ports sent. */
#define DIRECT_DRAIN_MS 2000
#define DIRECT_DRAIN_POLL_MS 5
/* The longest suspend debugfs does (suspend_write()). */
#define DIRECT_SUSPEND_MAX_MS 10000

static DEFINE_MUTEX(suspend_lock);

/*
 * Wait until the device has used every TX element. A reset drops the
 * element the device is in the middle of (QEMU writes one to the host in
 * pieces when the host is slow), and sending it again would repeat its
 * start: so the freeze waits, and fails with EBUSY if the host does not
 * take them in time. Under the device's lock, the ports paused.
 */
static int ports_drain(struct direct_dev *dd)
{
	unsigned long end = jiffies + msecs_to_jiffies(DIRECT_DRAIN_MS);
	struct vportx_dport *port;
	u32 id;

	for (id = 0; id < dd->max_ports; id++) {
		port = dd_port(dd, id);
		while (port && !vportx_dtx_drained(port)) {
			if (time_after(jiffies, end)) {
				dev_warn(&dd->vdev->dev,
					 "port %u: the host did not take what it was sent within %u ms: no suspend\n",
					 id, DIRECT_DRAIN_MS);
				return -EBUSY;
			}
			msleep(DIRECT_DRAIN_POLL_MS);
		}
	}
	return 0;
}

/*
 * Suspend: the ports stop giving the device buffers, and once it has sent
 * what they gave it, it is reset and its queues go. What it filled stays
 * for the readers, and its messages are read first (a host that left just
 * before is seen); the writers' bytes wait in their queues.
 */
static int direct_freeze(struct virtio_device *vdev)
{
	struct direct_dev *dd = vdev->priv;
	int ret;

	mutex_lock(&dd->lock);
	dd_ports_each(dd, vportx_dport_pause);
	ret = ports_drain(dd);
	if (ret) {
		dd_ports_each(dd, vportx_dport_resume);
		mutex_unlock(&dd->lock);
		return ret;
	}
	mutex_unlock(&dd->lock);
	virtio_reset_device(vdev);
	/* The answers to what is read below would go to a reset device. */
	vportx_dctrl_out_set(dd, NULL);
	mutex_lock(&dd->lock);
	dd->frozen = true;
	vportx_dproto_read(dd, false);
	dd_ports_each(dd, vportx_dport_drop_queues);
	mutex_unlock(&dd->lock);
	cancel_work_sync(&dd->ctrl_work);
	direct_del_vqs(dd);
	return 0;
}

/*
 * Resume: queues anew, every port going on where it stopped (buffers
 * posted, PORT_OPEN if it is open, its writers' bytes pushed), then
 * DEVICE_READY: the device tells every port's name and host again. A
 * device that cannot be restored loses its ports: their nodes say ENODEV.
 */
static int direct_restore(struct virtio_device *vdev)
{
	struct direct_dev *dd = vdev->priv;
	int ret;

	ret = direct_queues(dd);
	if (ret)
		goto err_ports;
	return direct_ready(dd);

err_ports:
	mutex_lock(&dd->lock);
	dd_ports_each(dd, vportx_dport_gone);
	mutex_unlock(&dd->lock);
	dev_err(&vdev->dev, "not restored: %d\n", ret);
	return ret;
}

/*
 * For the tests: writing N to vportx/virtioM-suspend suspends virtioM for
 * N ms the way a system suspend does (freeze, restore) while the rest of
 * the system runs on. The write fails as the freeze or restore failed.
 */
static ssize_t suspend_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	struct direct_dev *dd = file->private_data;
	unsigned int ms;
	int ret;

	ret = kstrtouint_from_user(ubuf, len, 0, &ms);
	if (ret)
		return ret;
	if (ms > DIRECT_SUSPEND_MAX_MS)
		return -ERANGE;
	mutex_lock(&suspend_lock);
	ret = virtio_device_freeze(dd->vdev);
	if (!ret) {
		msleep(ms);
		ret = virtio_device_restore(dd->vdev);
	}
	mutex_unlock(&suspend_lock);
	return ret ?: len;
}

static const struct file_operations suspend_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = suspend_write,
	.llseek = noop_llseek,
};

static void suspend_debugfs_add(struct direct_dev *dd)
{
	char name[32];

	snprintf(name, sizeof(name), "%s-suspend", dev_name(&dd->vdev->dev));
	dd->debugfs_suspend = debugfs_create_file(name, 0200, direct_debugfs,
						  dd, &suspend_fops);
}
#else
static void suspend_debugfs_add(struct direct_dev *dd)
{
}
#endif

static void direct_debugfs_add(struct direct_dev *dd)
{
	dd->debugfs = debugfs_create_file(dev_name(&dd->vdev->dev), 0400,
					  direct_debugfs, dd, &ports_fops);
	suspend_debugfs_add(dd);
}

static int direct_probe(struct virtio_device *vdev)
{
	struct vportx_params params;
	struct direct_dev *dd;
	int ret;

	if (!vportx_claim_params(vdev->index, &params))
		return -ENODEV;
	if (!virtio_has_feature(vdev, VIRTIO_CONSOLE_F_MULTIPORT)) {
		dev_err(&vdev->dev, "no multiport: vportx cannot drive it\n");
		return -EINVAL;
	}
	dd = direct_alloc(vdev);
	if (IS_ERR(dd))
		return PTR_ERR(dd);
	dd->params = params;
	vdev->priv = dd;
	ret = direct_queues(dd);
	if (ret)
		goto err_free;
	ret = direct_ready(dd);
	if (ret)
		goto err_stop;
	direct_debugfs_add(dd);
	dev_info(&vdev->dev, "driven by vportx, up to %u ports\n",
		 dd->max_ports);
	return 0;

err_stop:
	direct_stop(dd);
err_free:
	vdev->priv = NULL;
	direct_free(dd);
	return ret;
}

static void direct_remove(struct virtio_device *vdev)
{
	struct direct_dev *dd = vdev->priv;

	/* Waits for a suspend written to debugfs: none runs after it. */
	debugfs_remove(dd->debugfs_suspend);
	debugfs_remove(dd->debugfs);
	direct_stop(dd);
	direct_free(dd);
	dev_info(&vdev->dev, "released by vportx\n");
}

static const struct virtio_device_id direct_ids[] = {
	{ VIRTIO_ID_CONSOLE, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static const unsigned int direct_features[] = {
	VIRTIO_CONSOLE_F_MULTIPORT,
};

/*
 * No MODULE_DEVICE_TABLE: a console device is no reason to load vportx,
 * which would not take it anyway.
 */
static struct virtio_driver direct_driver = {
	.driver.name = KBUILD_MODNAME,
	.driver.owner = THIS_MODULE,
	.id_table = direct_ids,
	.feature_table = direct_features,
	.feature_table_size = ARRAY_SIZE(direct_features),
	.probe = direct_probe,
	.remove = direct_remove,
#ifdef CONFIG_PM_SLEEP
	.freeze = direct_freeze,
	.restore = direct_restore,
#endif
};

int vportx_direct_init(void)
{
	int ret;

	direct_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	ret = register_virtio_driver(&direct_driver);
	if (ret)
		goto err_remove_debugfs;
	vportx_stock_init(&direct_driver.driver);
	vportx_claim_init(&direct_driver.driver);
	return 0;

err_remove_debugfs:
	debugfs_remove(direct_debugfs);
	return ret;
}

/*
 * The driver goes first, which unbinds every claimed device; then the
 * claims give them back to virtio_console.
 */
void vportx_direct_uninit(void)
{
	unregister_virtio_driver(&direct_driver);
	vportx_claim_uninit();
	debugfs_remove(direct_debugfs);
}
