/* SPDX-License-Identifier: MIT */
/* The system, fixed and accelerated clocks. */
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

const struct clock clock_system = {.now_ms = clock_system_now_ms, .speed = 1};

int64_t clock_scaled_now_ms(const struct clock *c)
{
	return c->start_ms + (clock_system_now_ms(c) - c->anchor_ms) * c->speed;
}

struct clock clock_scaled(int64_t start_ms, int64_t anchor_ms, int speed)
{
	return (struct clock){
	    .now_ms = clock_scaled_now_ms,
	    .start_ms = start_ms,
	    .anchor_ms = anchor_ms ? anchor_ms : clock_system_now_ms(NULL),
	    .speed = speed > 0 ? speed : 1,
	};
}

bool clock_is_simulated(const struct clock *c)
{
	return c->now_ms == clock_scaled_now_ms;
}

int clock_speed(const struct clock *c)
{
	return c->now_ms == clock_scaled_now_ms ? c->speed : 1;
}

int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
