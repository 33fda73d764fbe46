// SPDX-License-Identifier: GPL-2.0
/*
 * The multiport protocol: what the device's control messages mean for
 * its ports. It learns the device's ports, their names, which are
 * consoles and whether a host is connected to each, and gives every port
 * but a console a node (dport.c). It runs in the control work, under the
 * device's lock.
 */

#include "direct.h"

#include <linux/slab.h>
#include <linux/string.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>

/* Longest port name kept: names become file names under /dev/vportx. */
#define DIRECT_NAME_MAX 255
/* The device's answers to one PORT_READY, at most (ports_ready()). */
#define DIRECT_READY_ANSWERS 3

/*
 * PORT_ADD: PORT_READY 0 at once if we cannot keep the port; PORT_READY 1
 * is owed, and ports_ready() sends it.
 */
static void msg_port_add(struct direct_dev *dd, u32 id)
{
	struct vportx_dport *port = dd_port(dd, id);

	if (!port) {
		port = vportx_dport_alloc(dd, id);
		if (port)
			dd_port_set(dd, id, port);
	}
	if (port)
		port->ready_owed = true;
	else
		vportx_dctrl_send(dd, id, VIRTIO_CONSOLE_PORT_READY, 0);
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
		port = dd_port(dd, id);
		if (!port || !port->ready_owed)
			continue;
		port->ready_owed = false;
		vportx_dctrl_send(dd, id, VIRTIO_CONSOLE_PORT_READY, 1);
		room -= DIRECT_READY_ANSWERS;
		sent++;
	}
	return sent;
}

/* PORT_REMOVE, or the device goes: the port's node goes at its close. */
void vportx_dproto_remove(struct direct_dev *dd, u32 id)
{
	struct vportx_dport *port = dd_port(dd, id);

	dd_port_set(dd, id, NULL);
	vportx_dport_gone(port);
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
		port = dd_port(dd, id);
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
static void msg_port_name(struct direct_dev *dd, u32 id, const char *name,
			  size_t len)
{
	struct vportx_dport *port = dd_port(dd, id);

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
static void msg_console_port(struct direct_dev *dd, u32 id)
{
	struct vportx_dport *port = dd_port(dd, id);

	port->console = true;
	if (port->attached)
		dev_warn(&dd->vdev->dev,
			 "port %u became a console after it got a node\n", id);
}

/* One message of the device, @len bytes at @buf. Under dd->lock. */
static void msg_handle(struct direct_dev *dd, const void *buf,
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
		msg_port_add(dd, id);
		return;
	}
	if (!dd_port(dd, id)) {
		dev_dbg(&vdev->dev, "control message %u for absent port %u\n",
			event, id);
		return;
	}
	switch (event) {
	case VIRTIO_CONSOLE_PORT_REMOVE:
		vportx_dproto_remove(dd, id);
		break;
	case VIRTIO_CONSOLE_PORT_NAME:
		msg_port_name(dd, id, buf + sizeof(*msg), len - sizeof(*msg));
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		vportx_dport_host(dd_port(dd, id), value);
		break;
	case VIRTIO_CONSOLE_CONSOLE_PORT:
		msg_console_port(dd, id);
		break;
	default:
		/* RESIZE is for consoles' ttys: vportx gives them none. */
		dev_dbg(&vdev->dev, "control message %u for port %u ignored\n",
			event, id);
	}
}

/* The device's messages; their buffers go back to it if @repost. */
void vportx_dproto_read(struct direct_dev *dd, bool repost)
{
	unsigned int len;
	void *buf;

	lockdep_assert_held(&dd->lock);
	while ((buf = virtqueue_get_buf(dd->ctrl_in, &len))) {
		msg_handle(dd, buf, min_t(unsigned int, len,
					  DIRECT_CTRL_BUF));
		if (!repost || vportx_dctrl_in_post(dd, buf))
			kfree(buf);
	}
}

void vportx_dproto_work(struct work_struct *work)
{
	struct direct_dev *dd = container_of(work, struct direct_dev,
					     ctrl_work);

	mutex_lock(&dd->lock);
	/* Frozen: the queue may be gone; the restore kicks it anew. */
	if (dd->frozen)
		goto out;
	/* Until the answers to the PORT_READYs just sent are read too. */
	do {
		vportx_dproto_read(dd, true);
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

void vportx_dproto_in_done(struct virtqueue *vq)
{
	struct direct_dev *dd = vq->vdev->priv;

	queue_work(vportx_wq, &dd->ctrl_work);
}
