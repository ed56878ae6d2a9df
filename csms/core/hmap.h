/* SPDX-License-Identifier: MIT */
/* A string-keyed hash map (open addressing, linear probing, tombstones) holding borrowed keys. */
#pragma once

#include <stddef.h>

struct hmap_slot {
	const char *key; /* borrowed: must live as long as the entry (usually inside value) */
	void *value;
	unsigned hash;
};

struct hmap {
	struct hmap_slot *slots;
	size_t cap;   /* power of two, or 0 */
	size_t count; /* live entries */
	size_t used;  /* live + tombstones */
};

/* Look key up; NULL if absent. */
void *hmap_get(const struct hmap *m, const char *key);
/* Insert or replace. The key pointer is stored, not copied. 0 or -ENOMEM. */
int hmap_put(struct hmap *m, const char *key, void *value);
/* Remove key; returns its value or NULL. */
void *hmap_del(struct hmap *m, const char *key);
void hmap_free(struct hmap *m);
