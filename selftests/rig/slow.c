// SPDX-License-Identifier: GPL-2.0
/*
 * Preloaded into a test program on a slow kernel (make check-debug): the
 * kselftest harness bounds each test with alarm(timeout), and a kernel
 * with KASAN and lockdep runs every test several times slower, so the
 * alarm is stretched by VPORTX_SLOW. Only the harness's bound changes;
 * what a test asserts and how long it waits for a peer do not.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned int slow_factor = 1;

/*
 * The programs a test starts (vportxctl, udevadm) must not inherit the
 * stretch: the variable goes once it is read.
 */
__attribute__((constructor))
static void slow_init(void)
{
	const char *s = getenv("VPORTX_SLOW");

	if (s && atoi(s) > 1)
		slow_factor = atoi(s);
	unsetenv("VPORTX_SLOW");
	unsetenv("LD_PRELOAD");
}

unsigned int alarm(unsigned int seconds)
{
	static unsigned int (*real_alarm)(unsigned int);

	if (!real_alarm)
		real_alarm = (unsigned int (*)(unsigned int))dlsym(RTLD_NEXT, "alarm");
	return real_alarm(seconds * slow_factor) / slow_factor;
}
