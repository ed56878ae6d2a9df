/* SPDX-License-Identifier: MIT */
/* A small append-only JSON writer for the frames the simulator sends (no DOM, auto commas). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPSIM_JW_DEPTH 24

struct cpsim_jw {
	char *buf; /* owned, NUL-terminated */
	size_t len;
	size_t cap;
	bool oom; /* an allocation failed: the text is incomplete */
	unsigned depth;
	bool after_key;
	uint32_t first;	 /* bit d: nothing written yet at depth d */
	uint32_t is_arr; /* bit d: depth d is an array */
};

/* Empty w, keeping its buffer. */
void cpsim_jw_reset(struct cpsim_jw *w);
/* Free the buffer; w can be reused after cpsim_jw_reset(). */
void cpsim_jw_free(struct cpsim_jw *w);

void cpsim_jw_obj(struct cpsim_jw *w);		      /* { */
void cpsim_jw_arr(struct cpsim_jw *w);		      /* [ */
void cpsim_jw_end(struct cpsim_jw *w);		      /* } or ] (closes the innermost) */
void cpsim_jw_key(struct cpsim_jw *w, const char *k); /* "k": (k is a trusted literal) */
void cpsim_jw_str(struct cpsim_jw *w, const char *s); /* escaped string value */
void cpsim_jw_int(struct cpsim_jw *w, int64_t v);
void cpsim_jw_num(struct cpsim_jw *w, double v, int decimals); /* non-finite -> 0 */
void cpsim_jw_bool(struct cpsim_jw *w, bool v);
void cpsim_jw_raw(struct cpsim_jw *w, const char *json); /* a complete JSON value, as is */

/* Append bytes with no separator logic (for splicing frames). */
void cpsim_jw_append(struct cpsim_jw *w, const char *s, size_t n);

/* The text so far, or NULL after an allocation failure. */
const char *cpsim_jw_text(const struct cpsim_jw *w);
