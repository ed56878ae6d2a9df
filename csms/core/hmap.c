/* SPDX-License-Identifier: MIT */
/* String-keyed open-addressing hash map, FNV-1a, grown at 70 % load. */
#include "hmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char tombstone;
#define TOMB (&tombstone)

static unsigned hash_str(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct hmap_slot *find(const struct hmap *m, const char *key, unsigned h)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct hmap_slot *s = &m->slots[i];

		if (!s->key)
			return NULL;
		if (s->key != TOMB && s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
}

/* Rehash into a table sized for the live entries (at most 35 % full afterwards): it grows with
 * the live count, not with tombstones left by churn. */
static int grow(struct hmap *m)
{
	size_t ncap = 16;
	struct hmap_slot *ns;

	while ((m->count + 1) * 20 > ncap * 7)
		ncap *= 2;
	ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct hmap_slot *s = &m->slots[i];
		size_t j;

		if (!s->key || s->key == TOMB)
			continue;
		for (j = s->hash & (ncap - 1); ns[j].key; j = (j + 1) & (ncap - 1))
			;
		ns[j] = *s;
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	m->used = m->count;
	return 0;
}

void *hmap_get(const struct hmap *m, const char *key)
{
	struct hmap_slot *s = find(m, key, hash_str(key));

	return s ? s->value : NULL;
}

int hmap_put(struct hmap *m, const char *key, void *value)
{
	unsigned h = hash_str(key);
	struct hmap_slot *s = find(m, key, h);
	size_t i;

	if (s) {
		s->key = key;
		s->value = value;
		return 0;
	}
	if ((m->used + 1) * 10 >= m->cap * 7) {
		int r = grow(m);

		if (r < 0)
			return r;
	}
	for (i = h & (m->cap - 1); m->slots[i].key && m->slots[i].key != TOMB;
	     i = (i + 1) & (m->cap - 1))
		;
	if (!m->slots[i].key)
		m->used++;
	m->slots[i] = (struct hmap_slot){.key = key, .value = value, .hash = h};
	m->count++;
	return 0;
}

void *hmap_del(struct hmap *m, const char *key)
{
	struct hmap_slot *s = find(m, key, hash_str(key));
	void *v;

	if (!s)
		return NULL;
	v = s->value;
	s->key = TOMB;
	s->value = NULL;
	m->count--;
	return v;
}

void hmap_free(struct hmap *m)
{
	free(m->slots);
	*m = (struct hmap){0};
}
