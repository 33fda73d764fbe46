// SPDX-License-Identifier: GPL-2.0
/*
 * The module skeleton: loaded by the rig before the tests, with the version
 * the source says, and its banner in the kernel log (more than once when
 * a test before this one reloaded it, as direct_test does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "guest.h"
#include "../../kmod/version.h"

TEST(module_loaded_with_version)
{
	char version[64];

	ASSERT_EQ(0, rig_read_file("/sys/module/vportx/version", version,
				   sizeof(version)));
	EXPECT_STREQ(VPORTX_VERSION, version);
}

TEST(module_banner_in_log)
{
	FILE *p = popen("dmesg", "r");
	char line[512];
	int found = 0;

	ASSERT_NE(NULL, p);
	while (fgets(line, sizeof(line), p))
		if (strstr(line, "vportx: vportx " VPORTX_VERSION " loaded"))
			found++;
	pclose(p);
	EXPECT_LE(1, found);
}

TEST_HARNESS_MAIN
