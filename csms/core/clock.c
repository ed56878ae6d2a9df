/* SPDX-License-Identifier: MIT */
/* The system and fixed clocks. */
#include "clock.h"

#include <time.h>

int64_t clock_system_now_ms(const struct clock *c)
{
	struct timespec ts;

	(void)c;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_fixed_now_ms(const struct clock *c)
{
	return c->fixed_ms;
}

const struct clock clock_system = { .now_ms = clock_system_now_ms };

int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
