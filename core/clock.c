/* SPDX-License-Identifier: MIT */
#include "core/clock.h"

#include <time.h>

long long den_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
