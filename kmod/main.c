// SPDX-License-Identifier: GPL-2.0
/*
 * vportx: accelerated character devices over virtio-serial ports.
 *
 * This is the module's entry point. Every concern (control device, node
 * core, queues, backends) brings an init/uninit pair that is called from
 * here, and module exit is the exact reverse of init.
 */

#include "version.h"
#include "vportx.h"

#include <linux/vportx.h>

#include <linux/init.h>
#include <linux/module.h>

static int __init vportx_mod_init(void)
{
	int ret;

	ret = vportx_node_init();
	if (ret)
		goto err_node;
	ret = vportx_direct_init();
	if (ret)
		goto err_direct;
	/* Last: the control device reaches everything set up above. */
	ret = vportx_control_init();
	if (ret)
		goto err_control;
	pr_info("vportx " VPORTX_VERSION " loaded (uapi %u)\n",
		VPORTX_UAPI_VERSION);
	return 0;

err_control:
	vportx_direct_uninit();
err_direct:
	vportx_node_uninit();
err_node:
	return ret;
}

static void __exit vportx_mod_exit(void)
{
	vportx_control_uninit();
	vportx_direct_uninit();
	vportx_node_destroy_all();
	vportx_node_uninit();
	pr_info("vportx unloaded\n");
}

module_init(vportx_mod_init);
module_exit(vportx_mod_exit);
MODULE_LICENSE("GPL v2");
MODULE_DESCRIPTION("Accelerated character devices over virtio-serial ports");
MODULE_AUTHOR("The vportx developers");
MODULE_VERSION(VPORTX_VERSION);
