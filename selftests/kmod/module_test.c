// SPDX-License-Identifier: GPL-2.0
/*
 * The module skeleton: loaded by the rig before the tests, with the version
 * the source says, and its banner in the kernel log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "../../kmod/version.h"

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		ret = -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return ret;
}

TEST(module_loaded_with_version)
{
	char version[64];

	ASSERT_EQ(0, read_line("/sys/module/vportx/version", version,
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
	EXPECT_EQ(1, found);
}

TEST_HARNESS_MAIN
