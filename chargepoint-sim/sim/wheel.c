/* SPDX-License-Identifier: MIT */
/* Timer wheel: slot = tick mod slots; nodes due in a later round stay in their slot. */
#include "wheel.h"

#include <errno.h>
#include <stdlib.h>

int cpsim_wheel_init(struct cpsim_wheel *w, uint32_t res_ms, uint32_t slots, uint32_t now_ms)
{
	if (!res_ms || !slots || (slots & (slots - 1)))
		return -EINVAL;
	w->slots = calloc(slots, sizeof(*w->slots));
	if (!w->slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < slots; i++)
		w->slots[i].prev = w->slots[i].next = &w->slots[i];
	w->res_ms = res_ms;
	w->mask = slots - 1;
	w->next_tick = now_ms / res_ms;
	w->count = 0;
	return 0;
}

void cpsim_wheel_free(struct cpsim_wheel *w)
{
	free(w->slots);
	w->slots = NULL;
}

static void unlink_node(struct cpsim_wnode *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
}

static void link_tail(struct cpsim_wnode *head, struct cpsim_wnode *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static void link_slot(struct cpsim_wheel *w, struct cpsim_wnode *n)
{
	uint32_t tick = n->due / w->res_ms;

	if (tick < w->next_tick)
		tick = w->next_tick;
	link_tail(&w->slots[tick & w->mask], n);
}

void cpsim_wheel_set(struct cpsim_wheel *w, struct cpsim_wnode *n, uint32_t due)
{
	if (n->next)
		unlink_node(n);
	else
		w->count++;
	n->due = due;
	link_slot(w, n);
}

void cpsim_wheel_del(struct cpsim_wheel *w, struct cpsim_wnode *n)
{
	if (!n->next)
		return;
	unlink_node(n);
	w->count--;
}

uint32_t cpsim_wheel_expire(struct cpsim_wheel *w, uint32_t now_ms,
			    void (*fn)(struct cpsim_wnode *n, void *arg), void *arg)
{
	uint32_t target = now_ms / w->res_ms, fired = 0, slots = w->mask + 1, visited = 0;

	while (w->next_tick <= target && visited < slots) {
		struct cpsim_wnode *head = &w->slots[w->next_tick & w->mask], tmp, *n;

		visited++;
		w->next_tick++; /* re-armed nodes that are due go to the next tick, not this one */
		if (head->next == head)
			continue;
		/* move the slot's list under a local sentinel; fn may unlink any of its nodes */
		tmp.next = head->next;
		tmp.prev = head->prev;
		tmp.next->prev = &tmp;
		tmp.prev->next = &tmp;
		head->next = head->prev = head;
		while ((n = tmp.next) != &tmp) {
			unlink_node(n);
			if (n->due <= now_ms) {
				w->count--;
				fired++;
				fn(n, arg);
			} else {
				link_slot(w, n);
			}
		}
	}
	if (w->next_tick <= target)
		w->next_tick = target + 1; /* we went round once: every slot was seen */
	return fired;
}
