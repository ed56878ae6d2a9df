/* SPDX-License-Identifier: MIT */
/* The one clock: wall time in ms since the epoch (real, fixed for tests, or accelerated for
 * demos), and a monotonic clock for network timeouts, which always stay real. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct clock {
	int64_t (*now_ms)(const struct clock *c);
	int64_t fixed_ms; /* clock_fixed: the time it returns */
	int64_t start_ms; /* clock_scaled: simulated time at anchor_ms */
	int64_t
	    anchor_ms; /* clock_scaled: the wall-clock instant where simulated time was start_ms */
	int speed;     /* clock_scaled: simulated ms per real ms (>= 1) */
};

/* The real clock (CLOCK_REALTIME). */
extern const struct clock clock_system;
int64_t clock_system_now_ms(const struct clock *c);
/* A clock that returns c->fixed_ms; tests move it by hand. */
int64_t clock_fixed_now_ms(const struct clock *c);

/*
** An accelerated clock for demos and tests: start_ms + (wall - anchor_ms) * speed. Every
** process given the same (start, anchor, speed) reads the same simulated time, so a simulator
** and the CSMS agree to the millisecond whatever order they started in. anchor_ms 0 means
** "now". Returns the clock by value.
*/
struct clock clock_scaled(int64_t start_ms, int64_t anchor_ms, int speed);
int64_t clock_scaled_now_ms(const struct clock *c);
/* True for an accelerated or shifted clock (anything but the system clock). */
bool clock_is_simulated(const struct clock *c);
/* Simulated ms per real ms: 1 for the real and fixed clocks. */
int clock_speed(const struct clock *c);

static inline int64_t clock_now_ms(const struct clock *c)
{
	return c->now_ms(c);
}

/* Monotonic ms for intervals and rates (never jumps). */
int64_t clock_mono_ms(void);
