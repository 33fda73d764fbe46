// SPDX-License-Identifier: GPL-2.0
/*
 * The direct backend's control queues: the device's messages land in
 * page-sized buffers that the protocol (dproto.c) hands back once read;
 * our own messages go in buffers of their own that the control-out
 * interrupt frees, so nobody ever spins waiting for the device to take
 * one. Nothing here knows what a message means.
 */

#include "direct.h"

#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>

/* Free the messages the device has taken. Under ctrl_out_lock. */
static void ctrl_out_reclaim(struct direct_dev *dd)
{
	unsigned int len;
	void *msg;

	while (dd->ctrl_out && (msg = virtqueue_get_buf(dd->ctrl_out, &len)))
		kfree(msg);
}

/* From DRIVER_OK until a freeze or the end, our messages go to @vq. */
void vportx_dctrl_out_set(struct direct_dev *dd, struct virtqueue *vq)
{
	spin_lock_irq(&dd->ctrl_out_lock);
	ctrl_out_reclaim(dd);
	dd->ctrl_out = vq;
	spin_unlock_irq(&dd->ctrl_out_lock);
}

void vportx_dctrl_out_done(struct virtqueue *vq)
{
	struct direct_dev *dd = vq->vdev->priv;
	unsigned long flags;

	spin_lock_irqsave(&dd->ctrl_out_lock, flags);
	ctrl_out_reclaim(dd);
	spin_unlock_irqrestore(&dd->ctrl_out_lock, flags);
}

void *vportx_dctrl_alloc(void)
{
	return kmalloc(sizeof(struct virtio_console_control), GFP_KERNEL);
}

/*
 * Send @event with @value about port @id in @msg, from
 * vportx_dctrl_alloc(), which is the device's now: the interrupt
 * frees it once the device has taken it. Any context. A frozen device
 * gets nothing: the reset made it forget every port's state, which
 * direct_restore() tells it again.
 */
int vportx_dctrl_send_msg(struct direct_dev *dd, u32 id, u16 event,
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

int vportx_dctrl_send(struct direct_dev *dd, u32 id, u16 event, u16 value)
{
	void *msg = vportx_dctrl_alloc();

	if (!msg)
		return -ENOMEM;
	return vportx_dctrl_send_msg(dd, id, event, value, msg);
}

int vportx_dctrl_in_post(struct direct_dev *dd, void *buf)
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
int vportx_dctrl_in_fill(struct direct_dev *dd)
{
	void *buf;

	while (dd->ctrl_in->num_free) {
		buf = kmalloc(DIRECT_CTRL_BUF, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		if (vportx_dctrl_in_post(dd, buf)) {
			kfree(buf);
			break;
		}
	}
	return 0;
}

/*
 * The queues are about to go: stop sending, and free every buffer the
 * device still has of both.
 */
void vportx_dctrl_drop(struct direct_dev *dd)
{
	void *buf;

	vportx_dctrl_out_set(dd, NULL);
	while ((buf = virtqueue_detach_unused_buf(dd->ctrl_in)))
		kfree(buf);
	while ((buf = virtqueue_detach_unused_buf(dd->vqs[VQ_CTRL_OUT])))
		kfree(buf);
}
