// SPDX-License-Identifier: GPL-2.0
/*
 * The direct backend's device half: vportx as the virtio driver of the
 * virtio-console devices claimed for it, speaking the multiport control
 * protocol with the device. It learns the device's ports, their names,
 * which are consoles and whether a host is connected to each, and gives
 * every port but a console a node (dport.c moves its data). debugfs
 * shows what it learnt (vportx/virtioN).
 *
 * vportx never takes a device by accident: its probe refuses every device
 * that VPORTX_IOC_CLAIM did not name, so virtio_console stays the driver
 * of every other console device, whichever module loads first. A claim
 * unbinds the device from its driver and binds it to vportx; a release,
 * and unloading vportx, hand it back to the driver core, which finds it
 * virtio_console again.
 *
 * A suspend freezes a claimed device only once the host has taken what
 * its ports sent (direct_freeze()), and the restore gives it new queues
 * and tells it again which ports are open: no byte is lost or repeated.
 *
 * The control queues: the device's messages land in page-sized buffers
 * that the control work hands back to the device once read; our own
 * messages go in buffers of their own that the control-out interrupt
 * frees, so nobody ever spins waiting for the device to take one.
 */

#include "compat.h"
#include "direct.h"

#include <linux/vportx.h>

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>

/* A device's control message: a header, and for PORT_NAME the name. */
#define DIRECT_CTRL_BUF PAGE_SIZE
/* QEMU's limit for max_ports, and virtio_console's. */
#define DIRECT_MAX_PORTS 0x8000
/* Longest port name kept: names become file names under /dev/vportx. */
#define DIRECT_NAME_MAX 255
/* The device's answers to one PORT_READY, at most (ports_ready()). */
#define DIRECT_READY_ANSWERS 3

/* Port 0's queues, then the control queues, then ports 1 and up. */
enum { VQ_RX0, VQ_TX0, VQ_CTRL_IN, VQ_CTRL_OUT };

/* A claimed device, and a reference that keeps its index ours. */
struct direct_claim {
	struct list_head list;
	struct device *dev;
	u32 index;
	struct vportx_params params;	/* for the nodes of its ports */
};

/* One claim or release at a time; probe only reads the list. */
static DEFINE_MUTEX(claim_op_lock);
static DEFINE_MUTEX(claims_lock);
static LIST_HEAD(claims);
static struct dentry *direct_debugfs;
static struct virtio_driver direct_driver;

static struct direct_claim *claim_find(u32 index)
{
	struct direct_claim *c;

	lockdep_assert_held(&claims_lock);
	list_for_each_entry(c, &claims, list)
		if (c->index == index)
			return c;
	return NULL;
}

/* Claimed: the parameters its nodes are to have. */
static bool direct_claimed(u32 index, struct vportx_params *params)
{
	struct direct_claim *c;

	mutex_lock(&claims_lock);
	c = claim_find(index);
	if (c)
		*params = c->params;
	mutex_unlock(&claims_lock);
	return c;
}

/* Free the messages the device has taken. Under ctrl_out_lock. */
static void ctrl_out_reclaim(struct direct_dev *dd)
{
	unsigned int len;
	void *msg;

	while (dd->ctrl_out && (msg = virtqueue_get_buf(dd->ctrl_out, &len)))
		kfree(msg);
}

/* From DRIVER_OK until a freeze or the end, our messages go to @vq. */
static void ctrl_out_set(struct direct_dev *dd, struct virtqueue *vq)
{
	spin_lock_irq(&dd->ctrl_out_lock);
	ctrl_out_reclaim(dd);
	dd->ctrl_out = vq;
	spin_unlock_irq(&dd->ctrl_out_lock);
}

static void ctrl_out_done(struct virtqueue *vq)
{
	struct direct_dev *dd = vq->vdev->priv;
	unsigned long flags;

	spin_lock_irqsave(&dd->ctrl_out_lock, flags);
	ctrl_out_reclaim(dd);
	spin_unlock_irqrestore(&dd->ctrl_out_lock, flags);
}

void *vportx_direct_ctrl_alloc(void)
{
	return kmalloc(sizeof(struct virtio_console_control), GFP_KERNEL);
}

/*
 * Send @event with @value about port @id in @msg, from
 * vportx_direct_ctrl_alloc(), which is the device's now: the interrupt
 * frees it once the device has taken it. Any context. A frozen device
 * gets nothing: the reset made it forget every port's state, which
 * direct_restore() tells it again.
 */
int vportx_direct_ctrl_send(struct direct_dev *dd, u32 id, u16 event,
			    u16 value, void *buf)
{
	struct virtio_device *vdev = dd->vdev;
	struct virtio_console_control *msg = buf;
	struct scatterlist sg;
	unsigned long flags;
	int ret;

	msg->id = cpu_to_virtio32(vdev, id);
	msg->event = cpu_to_virtio16(vdev, event);
	msg->value = cpu_to_virtio16(vdev, value);
	sg_init_one(&sg, msg, sizeof(*msg));
	spin_lock_irqsave(&dd->ctrl_out_lock, flags);
	ctrl_out_reclaim(dd);
	ret = -ESHUTDOWN;
	if (dd->ctrl_out)
		ret = virtqueue_add_outbuf(dd->ctrl_out, &sg, 1, msg,
					   GFP_ATOMIC);
	if (!ret)
		virtqueue_kick(dd->ctrl_out);
	spin_unlock_irqrestore(&dd->ctrl_out_lock, flags);
	/* EIO: the queue is broken, the device being stopped (direct_stop). */
	if (ret && ret != -EIO && ret != -ESHUTDOWN)
		dev_warn_ratelimited(&vdev->dev,
				     "control message %u for port %u not sent: %d\n",
				     event, id, ret);
	if (ret)
		kfree(msg);
	return ret;
}

static int ctrl_send(struct direct_dev *dd, u32 id, u16 event, u16 value)
{
	void *msg = vportx_direct_ctrl_alloc();

	if (!msg)
		return -ENOMEM;
	return vportx_direct_ctrl_send(dd, id, event, value, msg);
}

static int ctrl_in_post(struct direct_dev *dd, void *buf)
{
	struct scatterlist sg;

	sg_init_one(&sg, buf, DIRECT_CTRL_BUF);
	return virtqueue_add_inbuf(dd->ctrl_in, &sg, 1, buf, GFP_KERNEL);
}

/*
 * Give the device a buffer for every free slot of the control-in queue,
 * before DRIVER_OK: the device cannot use them yet, so no control work
 * runs on the queue meanwhile. The kick waits for DRIVER_OK.
 */
static int ctrl_in_fill(struct direct_dev *dd)
{
	void *buf;

	while (dd->ctrl_in->num_free) {
		buf = kmalloc(DIRECT_CTRL_BUF, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		if (ctrl_in_post(dd, buf)) {
			kfree(buf);
			break;
		}
	}
	return 0;
}

static struct vportx_dport *port_get(struct direct_dev *dd, u32 id)
{
	lockdep_assert_held(&dd->lock);
	return dd->ports[id];
}

static void port_set(struct direct_dev *dd, u32 id,
		     struct vportx_dport *port)
{
	spin_lock_irq(&dd->ports_lock);
	dd->ports[id] = port;
	spin_unlock_irq(&dd->ports_lock);
}

/* @fn on every port of the device. Under its lock. */
static void ports_each(struct direct_dev *dd,
		       void (*fn)(struct vportx_dport *port))
{
	u32 id;

	lockdep_assert_held(&dd->lock);
	for (id = 0; id < dd->max_ports; id++)
		if (port_get(dd, id))
			fn(port_get(dd, id));
}

/*
 * PORT_ADD: PORT_READY 0 at once if we cannot keep the port; PORT_READY 1
 * is owed, and ports_ready() sends it.
 */
static void port_add(struct direct_dev *dd, u32 id)
{
	struct vportx_dport *port = port_get(dd, id);

	if (!port) {
		port = vportx_dport_alloc(dd, id);
		if (port)
			port_set(dd, id, port);
	}
	if (port)
		port->ready_owed = true;
	else
		ctrl_send(dd, id, VIRTIO_CONSOLE_PORT_READY, 0);
}

/*
 * The device answers a PORT_READY with up to three messages (PORT_NAME,
 * CONSOLE_PORT, PORT_OPEN), and drops one it has no buffer for: sent all
 * at once for the 16 PORT_ADDs of a device with its hosts connected, the
 * answers outran the 32 buffers and the last PORT_OPEN was lost. So a
 * PORT_READY goes only while the buffers posted cover its answers and
 * one spare; the rest wait for the answers to come back. How many were
 * sent.
 */
static unsigned int ports_ready(struct direct_dev *dd)
{
	unsigned int room = virtqueue_get_vring_size(dd->ctrl_in) -
			    dd->ctrl_in->num_free;
	struct vportx_dport *port;
	unsigned int sent = 0;
	u32 id;

	for (id = 0; id < dd->max_ports && room > DIRECT_READY_ANSWERS; id++) {
		port = port_get(dd, id);
		if (!port || !port->ready_owed)
			continue;
		port->ready_owed = false;
		ctrl_send(dd, id, VIRTIO_CONSOLE_PORT_READY, 1);
		room -= DIRECT_READY_ANSWERS;
		sent++;
	}
	return sent;
}

/* PORT_REMOVE, or the device goes: the port's node goes at its close. */
static void port_remove(struct direct_dev *dd, u32 id, bool live)
{
	struct vportx_dport *port = port_get(dd, id);

	port_set(dd, id, NULL);
	vportx_dport_gone(port);
	if (live)
		vportx_dport_drop_queues(port);
	vportx_dport_put(port);
}

/* A node for each port that has none yet and is no console. */
static void ports_attach(struct direct_dev *dd)
{
	struct vportx_dport *port;
	int ret;
	u32 id;

	for (id = 0; id < dd->max_ports; id++) {
		port = port_get(dd, id);
		if (!port || port->attached || port->console ||
		    port->ready_owed)
			continue;
		port->attached = true;
		ret = vportx_dport_attach(port);
		if (ret)
			dev_warn(&dd->vdev->dev, "port %u: no node: %d\n", id,
				 ret);
	}
}

/* Printable, no slash, no blank: it is to become a file name. */
static bool name_ok(const char *name, size_t len)
{
	size_t i;

	if (!len || len > DIRECT_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '/')
			return false;
	return true;
}

/* PORT_NAME: the first name counts (a restored device sends it again). */
static void port_name(struct direct_dev *dd, u32 id, const char *name,
		      size_t len)
{
	struct vportx_dport *port = port_get(dd, id);

	if (port->name)
		return;
	/* QEMU counts the name's terminating NUL in the message. */
	len = strnlen(name, len);
	if (!name_ok(name, len)) {
		dev_warn(&dd->vdev->dev,
			 "port %u: a name of %zu bytes that is not a file name; the port stays unnamed\n",
			 id, len);
		return;
	}
	port->name = kmemdup_nul(name, len, GFP_KERNEL);
	dev_dbg(&dd->vdev->dev, "port %u is %s\n", id,
		port->name ?: "(no memory for its name)");
	if (port->name && port->node)
		vportx_node_set_name(port->node, port->name);
}

/* CONSOLE_PORT: a console gets no node; one already made keeps going. */
static void port_console(struct direct_dev *dd, u32 id)
{
	struct vportx_dport *port = port_get(dd, id);

	port->console = true;
	if (port->attached)
		dev_warn(&dd->vdev->dev,
			 "port %u became a console after it got a node\n", id);
}

/* One message of the device, @len bytes at @buf. Under dd->lock. */
static void ctrl_handle(struct direct_dev *dd, const void *buf,
			unsigned int len)
{
	const struct virtio_console_control *msg = buf;
	struct virtio_device *vdev = dd->vdev;
	u32 id;
	u16 event, value;

	if (len < sizeof(*msg)) {
		dev_warn_ratelimited(&vdev->dev,
				     "control message of %u bytes dropped\n",
				     len);
		return;
	}
	id = virtio32_to_cpu(vdev, msg->id);
	event = virtio16_to_cpu(vdev, msg->event);
	value = virtio16_to_cpu(vdev, msg->value);
	if (id >= dd->max_ports) {
		dev_warn_ratelimited(&vdev->dev,
				     "control message %u for port %u of %u dropped\n",
				     event, id, dd->max_ports);
		return;
	}
	if (event == VIRTIO_CONSOLE_PORT_ADD) {
		port_add(dd, id);
		return;
	}
	if (!port_get(dd, id)) {
		dev_dbg(&vdev->dev, "control message %u for absent port %u\n",
			event, id);
		return;
	}
	switch (event) {
	case VIRTIO_CONSOLE_PORT_REMOVE:
		port_remove(dd, id, true);
		break;
	case VIRTIO_CONSOLE_PORT_NAME:
		port_name(dd, id, buf + sizeof(*msg), len - sizeof(*msg));
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		vportx_dport_host(port_get(dd, id), value);
		break;
	case VIRTIO_CONSOLE_CONSOLE_PORT:
		port_console(dd, id);
		break;
	default:
		/* RESIZE is for consoles' ttys: vportx gives them none. */
		dev_dbg(&vdev->dev, "control message %u for port %u ignored\n",
			event, id);
	}
}

/* The device's messages; their buffers go back to it if @repost. */
static void ctrl_read(struct direct_dev *dd, bool repost)
{
	unsigned int len;
	void *buf;

	lockdep_assert_held(&dd->lock);
	while ((buf = virtqueue_get_buf(dd->ctrl_in, &len))) {
		ctrl_handle(dd, buf, min_t(unsigned int, len,
					   DIRECT_CTRL_BUF));
		if (!repost || ctrl_in_post(dd, buf))
			kfree(buf);
	}
}

static void ctrl_work(struct work_struct *work)
{
	struct direct_dev *dd = container_of(work, struct direct_dev,
					     ctrl_work);

	mutex_lock(&dd->lock);
	/* Frozen: the queue may be gone; the restore kicks it anew. */
	if (dd->frozen)
		goto out;
	/* Until the answers to the PORT_READYs just sent are read too. */
	do {
		ctrl_read(dd, true);
		virtqueue_kick(dd->ctrl_in);
	} while (ports_ready(dd));
	/*
	 * After the batch: the device answers PORT_READY with the port's
	 * name and whether it is a console, so the node is made knowing
	 * both, and has its name in its add uevent.
	 */
	ports_attach(dd);
out:
	mutex_unlock(&dd->lock);
}

static void ctrl_in_done(struct virtqueue *vq)
{
	struct direct_dev *dd = vq->vdev->priv;

	queue_work(vportx_wq, &dd->ctrl_work);
}

/* Queues 0 and 1 are port 0's; ports 1 and up follow the control queues. */
static u32 vq_port(struct virtqueue *vq)
{
	return vq->index < VQ_CTRL_IN ? 0 : vq->index / 2 - 1;
}

/* An interrupt of a port's queue: @done on the port, if it has one. */
static void port_vq_done(struct virtqueue *vq,
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

static void port_in_done(struct virtqueue *vq)
{
	port_vq_done(vq, vportx_dport_in_done);
}

static void port_out_done(struct virtqueue *vq)
{
	port_vq_done(vq, vportx_dport_out_done);
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
		callbacks[i] = i % 2 ? port_out_done : port_in_done;
		names[i] = i % 2 ? "output" : "input";
	}
	callbacks[VQ_CTRL_IN] = ctrl_in_done;
	callbacks[VQ_CTRL_OUT] = ctrl_out_done;
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
	void *buf;

	if (!dd->vqs)
		return;
	ctrl_out_set(dd, NULL);
	while ((buf = virtqueue_detach_unused_buf(dd->ctrl_in)))
		kfree(buf);
	while ((buf = virtqueue_detach_unused_buf(dd->vqs[VQ_CTRL_OUT])))
		kfree(buf);
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
	ports_each(dd, vportx_dport_gone);
	mutex_unlock(&dd->lock);
	virtio_break_device(vdev);
	virtio_reset_device(vdev);
	cancel_work_sync(&dd->ctrl_work);
	mutex_lock(&dd->lock);
	for (id = 0; id < dd->max_ports; id++)
		if (port_get(dd, id))
			port_remove(dd, id, true);
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
		port = port_get(dd, id);
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
	INIT_WORK(&dd->ctrl_work, ctrl_work);
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
	ret = ctrl_in_fill(dd);
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
	ctrl_out_set(dd, dd->vqs[VQ_CTRL_OUT]);
	mutex_lock(&dd->lock);
	ports_each(dd, vportx_dport_resume);
	dd->frozen = false;
	virtqueue_kick(dd->ctrl_in);
	mutex_unlock(&dd->lock);
	return ctrl_send(dd, VIRTIO_CONSOLE_BAD_ID,
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
		port = port_get(dd, id);
		while (port && !vportx_dport_drained(port)) {
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
	ports_each(dd, vportx_dport_pause);
	ret = ports_drain(dd);
	if (ret) {
		ports_each(dd, vportx_dport_resume);
		mutex_unlock(&dd->lock);
		return ret;
	}
	mutex_unlock(&dd->lock);
	virtio_reset_device(vdev);
	/* The answers to what is read below would go to a reset device. */
	ctrl_out_set(dd, NULL);
	mutex_lock(&dd->lock);
	dd->frozen = true;
	ctrl_read(dd, false);
	ports_each(dd, vportx_dport_drop_queues);
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
	ports_each(dd, vportx_dport_gone);
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

	if (!direct_claimed(vdev->index, &params))
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

/* virtioN, with a reference, if it is a console device. */
static struct device *console_get(u32 index)
{
	struct device *dev;
	char name[24];

	snprintf(name, sizeof(name), "virtio%u", index);
	dev = bus_find_device_by_name(direct_driver.driver.bus, NULL, name);
	if (!dev)
		return ERR_PTR(-ENODEV);
	if (dev_to_virtio(dev)->id.device != VIRTIO_ID_CONSOLE) {
		put_device(dev);
		return ERR_PTR(-EINVAL);
	}
	return dev;
}

static int match_devt(struct device *dev, void *devt)
{
	return dev->devt == *(dev_t *)devt;
}

/*
 * The port of device number @devt that virtio_console made on virtio@index,
 * with a reference, or NULL. It is one if the device is a console that
 * virtio_console drives and one of its children has that number.
 * virtio_console may be built in (Debian's 6.12) or a module, so the
 * file's fops owner proves nothing; its device does. *@owner, unless
 * NULL, gets the driver's module (NULL when built in).
 */
struct device *vportx_direct_stock_port(u32 index, dev_t devt,
					struct module **owner)
{
	struct device *dev = console_get(index), *port = NULL;
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

static int claim_add(u32 index, struct device *dev,
		     const struct vportx_params *params)
{
	struct direct_claim *c;
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
	struct direct_claim *c;
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

/* Unclaimed: unbind from vportx, and let the driver core rebind it. */
static void device_give_back(struct device *dev)
{
	device_release_driver(dev);
	if (device_attach(dev) < 0)
		dev_warn(dev, "no driver took it back\n");
	put_device(dev);
}

int vportx_direct_claim(u32 index, const struct vportx_params *params)
{
	struct device *dev;
	int ret;

	mutex_lock(&claim_op_lock);
	dev = console_get(index);
	ret = PTR_ERR_OR_ZERO(dev);
	if (ret)
		goto out;
	/*
	 * The nodes of a release just done go in the background: wait for
	 * them, so only a node still open or attached keeps the device.
	 */
	flush_workqueue(vportx_wq);
	ret = -EBUSY;
	if (vportx_node_on_device(index))
		goto err_put;
	ret = claim_add(index, dev, params);
	if (ret)
		goto err_put;
	device_release_driver(dev);
	ret = device_driver_attach(&direct_driver.driver, dev);
	if (ret)
		goto err_unclaim;
	mutex_unlock(&claim_op_lock);
	return 0;

err_unclaim:
	device_give_back(claim_del(index));
	goto out;
err_put:
	put_device(dev);
out:
	mutex_unlock(&claim_op_lock);
	return ret;
}

/*
 * EBUSY while a closed node of the device holds bytes the host sent and
 * nobody read: they would go with the device, and virtio_console gets it
 * reset. An open node's reader still reads its own after the release.
 */
int vportx_direct_release(u32 index)
{
	struct device *dev = NULL;
	int ret = -EBUSY;

	mutex_lock(&claim_op_lock);
	if (vportx_node_unread_closed(index))
		goto out;
	dev = claim_del(index);
	ret = dev ? 0 : -ENXIO;
	if (dev)
		device_give_back(dev);
out:
	mutex_unlock(&claim_op_lock);
	return ret;
}

int vportx_direct_init(void)
{
	int ret;

	direct_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	ret = register_virtio_driver(&direct_driver);
	if (ret)
		debugfs_remove(direct_debugfs);
	return ret;
}

/* The driver goes first: then every claimed device is unbound. */
void vportx_direct_uninit(void)
{
	struct direct_claim *c, *next;

	mutex_lock(&claim_op_lock);
	unregister_virtio_driver(&direct_driver);
	list_for_each_entry_safe(c, next, &claims, list) {
		list_del(&c->list);
		device_give_back(c->dev);
		kfree(c);
	}
	mutex_unlock(&claim_op_lock);
	debugfs_remove(direct_debugfs);
}
