// SPDX-License-Identifier: GPL-2.0
/*
 * A direct port's life, and its node: the port is made and removed by the
 * protocol (dproto.c), paused and resumed by its device's suspend
 * (direct.c), and its data moves in drx.c and dtx.c. This file holds the
 * node's backend ops.
 *
 * The device learns that the port is open (PORT_OPEN) when the node core
 * opens it (node.c: with the node, or from its creation with hold=always).
 * What arrived and was not read stays for the next opener: nothing is
 * discarded at close.
 *
 * While the device is frozen (suspend) the port is paused: no buffer goes
 * to the device, the queues are gone, readers read what came before and
 * writers' bytes wait in the TX queue until the restore resumes the port.
 *
 * Locking: the port's lock, taken in the queues' interrupts, guards the
 * queues, guest_open and node; the device's lock (dd->lock) is held
 * around every call from the protocol and the suspend.
 */

#include "direct.h"

#include <linux/vportx.h>

#include <linux/slab.h>
#include <linux/virtio_console.h>

/* Port 0's queues come first, the others' after the control queues. */
static void dport_find_queues(struct vportx_dport *port)
{
	unsigned int vq = port->id ? 2 * (port->id + 1) : 0;

	port->in_vq = port->dd->vqs[vq];
	port->out_vq = port->dd->vqs[vq + 1];
	port->rx_ring = virtqueue_get_vring_size(port->in_vq);
}

struct vportx_dport *vportx_dport_alloc(struct direct_dev *dd, u32 id)
{
	struct vportx_dport *port = kzalloc(sizeof(*port), GFP_KERNEL);

	if (!port)
		return NULL;
	kref_init(&port->ref);
	port->id = id;
	spin_lock_init(&port->lock);
	port->dd = dd;
	dport_find_queues(port);
	vportx_drx_init(port);
	return port;
}

static void dport_free(struct kref *ref)
{
	struct vportx_dport *port = container_of(ref, struct vportx_dport,
						 ref);

	vportx_drx_free(port);
	kfree(port->name);
	kfree(port);
}

void vportx_dport_put(struct vportx_dport *port)
{
	kref_put(&port->ref, dport_free);
}

/*
 * Tell the device the port is open (or not), unless it is gone. Under the
 * port's lock with guest_open, so a restore (dport_reopen()) sends either
 * what came before or nothing.
 */
static int dport_set_open(struct vportx_dport *port, bool open)
{
	void *msg = vportx_dctrl_alloc();
	int ret = -ENODEV;

	if (!msg)
		return -ENOMEM;
	spin_lock_irq(&port->lock);
	if (!port->gone) {
		port->guest_open = open;
		ret = vportx_dctrl_send_msg(port->dd, port->id,
					    VIRTIO_CONSOLE_PORT_OPEN, open,
					    msg);
		msg = NULL;
	}
	spin_unlock_irq(&port->lock);
	kfree(msg);
	return ret;
}

/* A reset device thinks every port closed: say again which are open. */
static void dport_reopen(struct vportx_dport *port)
{
	void *msg = vportx_dctrl_alloc();

	if (!msg)
		return;
	spin_lock_irq(&port->lock);
	if (!port->gone && port->guest_open) {
		vportx_dctrl_send_msg(port->dd, port->id,
				      VIRTIO_CONSOLE_PORT_OPEN, 1, msg);
		msg = NULL;
	}
	spin_unlock_irq(&port->lock);
	kfree(msg);
}

/* Open for the host: buffers to fill, and PORT_OPEN. */
static int dport_open(struct vportx_dport *port)
{
	if (READ_ONCE(port->gone))
		return -ENODEV;
	vportx_drx_fill(port);
	return dport_set_open(port, true);
}

/* Before anyone can find the node: the interrupts may now reach it. */
static void dport_start(struct vportx_node *node)
{
	struct vportx_dport *port = node->backend;

	spin_lock_irq(&port->lock);
	port->node = node;
	spin_unlock_irq(&port->lock);
}

/*
 * Open for the host, with the node's RX budget. What the port received
 * while closed, if anything, stays for the next reader: nothing is
 * discarded at close.
 */
static int dport_open_port(struct vportx_node *node)
{
	struct vportx_dport *port = node->backend;

	vportx_drx_set_budget(node, node->params.rx_budget);
	return dport_open(port);
}

static void dport_close_port(struct vportx_node *node)
{
	dport_set_open(node->backend, false);
}

/* The node goes: no interrupt reaches it any more. */
static void dport_destroy(struct vportx_node *node)
{
	struct vportx_dport *port = node->backend;
	bool open;

	spin_lock_irq(&port->lock);
	port->node = NULL;
	open = port->guest_open;
	spin_unlock_irq(&port->lock);
	if (open)
		dport_set_open(port, false);
	vportx_dport_put(port);
}

static const struct vportx_backend_ops dport_ops = {
	.name = "direct",
	.id = VPORTX_BACKEND_DIRECT,
	.owns_node = true,
	.start = dport_start,
	.open_port = dport_open_port,
	.close_port = dport_close_port,
	.read = vportx_drx_read,
	.splice_read = vportx_drx_splice_read,
	.push = vportx_dtx_push,
	.splice_write = vportx_dtx_splice_write,
	.poll = vportx_drx_poll,
	.set_rx_budget = vportx_drx_set_budget,
	.rx_queued = vportx_drx_queued,
	.destroy = dport_destroy,
};

/*
 * Give the port a node, named after it as the stock driver would name
 * its own: vportxNpM for port M of virtioN. Under the device's lock.
 */
int vportx_dport_attach(struct vportx_dport *port)
{
	struct direct_dev *dd = port->dd;
	u32 minor;
	int ret;

	kref_get(&port->ref);
	ret = vportx_node_create(dd->vdev->index, port->id, 0, &dd->params,
				 &dport_ops, port, &dd->vdev->dev, &minor);
	if (ret) {
		vportx_dport_put(port);
		return ret;
	}
	if (port->name)
		vportx_node_set_name(port->node, port->name);
	if (port->host_connected)
		vportx_dport_host(port, true);
	return 0;
}

/*
 * PORT_OPEN from the device. Under the device's lock. A host that comes
 * back takes what writers queued meanwhile: tx_give() found no host.
 */
void vportx_dport_host(struct vportx_dport *port, bool connected)
{
	WRITE_ONCE(port->host_connected, connected);
	if (!port->node)
		return;
	vportx_node_port_state(port->node, connected, false);
	if (connected)
		vportx_dtx_resume(port);
}

/*
 * The port was removed, or its device is going: keep what it received,
 * and from now on leave its queues alone. Under the device's lock.
 */
void vportx_dport_gone(struct vportx_dport *port)
{
	struct vportx_node *node;

	spin_lock_irq(&port->lock);
	vportx_drx_collect(port);
	port->gone = true;
	node = port->node;
	spin_unlock_irq(&port->lock);
	if (node)
		vportx_node_port_state(node, 0, true);
}

/*
 * The device is done with the port's queues: the port was removed, the
 * device is going (both after vportx_dport_gone()) or was reset for a
 * freeze. Keep what it filled for the reader (gone: that was done then),
 * take back every other buffer, and leave the queues alone from now on.
 */
void vportx_dport_drop_queues(struct vportx_dport *port)
{
	spin_lock_irq(&port->lock);
	if (!port->in_vq)
		goto out;	/* frozen: they went then */
	vportx_drx_drop(port);
	vportx_dtx_drop(port);
	port->in_vq = NULL;
	port->out_vq = NULL;
out:
	spin_unlock_irq(&port->lock);
	/* No interrupt queues it again: the queues are gone. */
	cancel_work_sync(&port->rx_work);
}

/*
 * Freezing: give the device no more buffers, so what it has of the port's
 * TX can drain. Under the device's lock.
 */
void vportx_dport_pause(struct vportx_dport *port)
{
	spin_lock_irq(&port->lock);
	port->paused = true;
	spin_unlock_irq(&port->lock);
}

/*
 * The port's device has its queues again (a restore), or kept them (a
 * freeze refused): post buffers, push what the writers queued meanwhile,
 * wake the waiters, and tell a reset device the port is open. Under the
 * device's lock.
 */
void vportx_dport_resume(struct vportx_dport *port)
{
	bool reset, fill;

	spin_lock_irq(&port->lock);
	reset = !port->in_vq;
	if (reset)
		dport_find_queues(port);
	port->paused = false;
	fill = port->guest_open && !port->gone;
	vportx_dtx_wake(port);
	spin_unlock_irq(&port->lock);
	if (fill)
		vportx_drx_fill(port);
	if (reset)
		dport_reopen(port);
}
