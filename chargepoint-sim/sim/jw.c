/* SPDX-License-Identifier: MIT */
/* JSON writer: strings escaped per RFC 8259, numbers printed with a fixed number of decimals. */
#include "jw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool grow(struct cpsim_jw *w, size_t extra)
{
	size_t cap;
	char *p;

	if (w->oom)
		return false;
	if (w->len + extra + 1 <= w->cap)
		return true;
	cap = w->cap ? w->cap : 256;
	while (cap < w->len + extra + 1)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (!p) {
		w->oom = true;
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

void cpsim_jw_append(struct cpsim_jw *w, const char *s, size_t n)
{
	if (!grow(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void putc1(struct cpsim_jw *w, char c)
{
	cpsim_jw_append(w, &c, 1);
}

void cpsim_jw_reset(struct cpsim_jw *w)
{
	w->len = 0;
	w->oom = false;
	w->depth = 0;
	w->after_key = false;
	w->first = 1;
	w->is_arr = 0;
	if (w->buf)
		w->buf[0] = '\0';
}

void cpsim_jw_free(struct cpsim_jw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

/* Separator before a value or key at the current depth. */
static void sep(struct cpsim_jw *w)
{
	uint32_t bit = UINT32_C(1) << w->depth;

	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->first & bit)
		w->first &= ~bit;
	else
		putc1(w, ',');
}

static void open(struct cpsim_jw *w, char c)
{
	sep(w);
	putc1(w, c);
	if (w->depth + 1 < CPSIM_JW_DEPTH) {
		w->depth++;
		w->first |= UINT32_C(1) << w->depth;
		if (c == '[')
			w->is_arr |= UINT32_C(1) << w->depth;
		else
			w->is_arr &= ~(UINT32_C(1) << w->depth);
	}
}

void cpsim_jw_obj(struct cpsim_jw *w)
{
	open(w, '{');
}

void cpsim_jw_arr(struct cpsim_jw *w)
{
	open(w, '[');
}

void cpsim_jw_end(struct cpsim_jw *w)
{
	uint32_t bit = UINT32_C(1) << w->depth;

	if (!w->depth)
		return;
	putc1(w, (w->is_arr & bit) ? ']' : '}');
	w->is_arr &= ~bit;
	w->depth--;
	w->after_key = false;
}

void cpsim_jw_key(struct cpsim_jw *w, const char *k)
{
	sep(w);
	putc1(w, '"');
	cpsim_jw_append(w, k, strlen(k));
	cpsim_jw_append(w, "\":", 2);
	w->after_key = true;
}

void cpsim_jw_str(struct cpsim_jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t run = 0;

	sep(w);
	putc1(w, '"');
	for (;; p++) {
		unsigned char c = *p;

		if (c && c >= 0x20 && c != '"' && c != '\\') {
			run++;
			continue;
		}
		cpsim_jw_append(w, (const char *)p - run, run);
		run = 0;
		if (!c)
			break;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};

			cpsim_jw_append(w, e, 2);
		} else {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

			cpsim_jw_append(w, e, 6);
		}
	}
	putc1(w, '"');
}

void cpsim_jw_int(struct cpsim_jw *w, int64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%" PRId64, v);

	sep(w);
	cpsim_jw_append(w, b, (size_t)n);
}

void cpsim_jw_num(struct cpsim_jw *w, double v, int decimals)
{
	char b[48];
	int n;

	if (!isfinite(v))
		v = 0;
	if (decimals < 0)
		decimals = 0;
	if (decimals > 6)
		decimals = 6;
	n = snprintf(b, sizeof(b), "%.*f", decimals, v);
	if (n < 0 || (size_t)n >= sizeof(b))
		n = snprintf(b, sizeof(b), "0");
	/* "-0" and "-0.0" are valid JSON but look odd; print 0 */
	if (b[0] == '-' && strspn(b + 1, "0.") == strlen(b + 1))
		n = snprintf(b, sizeof(b), "%.*f", decimals, 0.0);
	sep(w);
	cpsim_jw_append(w, b, (size_t)n);
}

void cpsim_jw_bool(struct cpsim_jw *w, bool v)
{
	sep(w);
	if (v)
		cpsim_jw_append(w, "true", 4);
	else
		cpsim_jw_append(w, "false", 5);
}

void cpsim_jw_raw(struct cpsim_jw *w, const char *json)
{
	sep(w);
	cpsim_jw_append(w, json, strlen(json));
}

const char *cpsim_jw_text(const struct cpsim_jw *w)
{
	if (w->oom)
		return NULL;
	return w->buf ? w->buf : "";
}
