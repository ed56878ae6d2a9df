/* SPDX-License-Identifier: MIT */
/* The one clock: wall time in ms since the epoch, replaceable by tests. */
#pragma once

#include <stdint.h>

struct clock {
	int64_t (*now_ms)(const struct clock *c);
	int64_t fixed_ms; /* used by clock_fixed */
};

/* The real clock (CLOCK_REALTIME). */
extern const struct clock clock_system;
int64_t clock_system_now_ms(const struct clock *c);
/* A clock that returns c->fixed_ms; tests move it by hand. */
int64_t clock_fixed_now_ms(const struct clock *c);

static inline int64_t clock_now_ms(const struct clock *c)
{
	return c->now_ms(c);
}

/* Monotonic ms for intervals and rates (never jumps). */
int64_t clock_mono_ms(void);
