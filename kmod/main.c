// SPDX-License-Identifier: GPL-2.0
/*
 * vportx: accelerated character devices over virtio-serial ports.
 *
 * This is the module's entry point. Every concern (control device, node
 * core, queues, backends) brings an init/uninit pair that is called from
 * here, and module exit is the exact reverse of init.
 */

#include "version.h"

#include <linux/vportx.h>

#include <linux/init.h>
#include <linux/module.h>

static int __init vportx_mod_init(void)
{
	pr_info("vportx " VPORTX_VERSION " loaded (uapi %u)\n",
		VPORTX_UAPI_VERSION);
	return 0;
}

static void __exit vportx_mod_exit(void)
{
	pr_info("vportx unloaded\n");
}

module_init(vportx_mod_init);
module_exit(vportx_mod_exit);
MODULE_LICENSE("GPL v2");
MODULE_DESCRIPTION("Accelerated character devices over virtio-serial ports");
MODULE_AUTHOR("The vportx developers");
MODULE_VERSION(VPORTX_VERSION);
