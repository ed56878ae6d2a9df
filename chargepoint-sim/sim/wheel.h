/* SPDX-License-Identifier: MIT */
/* A hashed timer wheel: one intrusive node per charger, O(1) set/cancel, expiry per tick. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct cpsim_wnode {
	struct cpsim_wnode *prev, *next; /* circular list of the node's slot; NULL when unlinked */
	uint32_t due;			 /* ms */
};

struct cpsim_wheel {
	uint32_t res_ms;	   /* tick length */
	uint32_t mask;		   /* slots - 1 */
	uint32_t next_tick;	   /* first tick not yet expired */
	uint32_t count;		   /* linked nodes */
	struct cpsim_wnode *slots; /* sentinels */
};

/* slots must be a power of two. 0 or -ENOMEM/-EINVAL. */
int cpsim_wheel_init(struct cpsim_wheel *w, uint32_t res_ms, uint32_t slots, uint32_t now_ms);
void cpsim_wheel_free(struct cpsim_wheel *w);

/* (Re)arm n to fire at due (ms); a due time in the past fires at the next expiry. */
void cpsim_wheel_set(struct cpsim_wheel *w, struct cpsim_wnode *n, uint32_t due);

/* Disarm n (no-op if not armed). */
void cpsim_wheel_del(struct cpsim_wheel *w, struct cpsim_wnode *n);

static inline bool cpsim_wheel_armed(const struct cpsim_wnode *n)
{
	return n->next != 0;
}

/*
** Fire every node due at or before now_ms: each is disarmed, then fn(n, arg) runs; fn may
** re-arm it or any other node. Visits each slot at most once per call, so the work is
** bounded by the number of armed nodes plus the slots passed. Returns how many fired.
*/
uint32_t cpsim_wheel_expire(struct cpsim_wheel *w, uint32_t now_ms,
			    void (*fn)(struct cpsim_wnode *n, void *arg), void *arg);
