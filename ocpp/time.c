/* SPDX-License-Identifier: MIT */
/* RFC 3339 date-times as used on the OCPP wire, to and from int64 milliseconds (UTC). */
#include "ocpp.h"

#include <errno.h>
#include <stdio.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	*ret_y = y + (m <= 2);
	*ret_m = m;
	*ret_d = d;
}

static bool is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* Read exactly n decimal digits at *p into *ret; advances *p. */
static bool digits(const char **p, int n, unsigned *ret)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

int ocpp_time_parse(const char *s, int64_t *ret_ms)
{
	unsigned year, mon, day, hour, min, sec, oh = 0, om = 0, frac = 0;
	int sign = 0;
	const char *p = s;
	int64_t ms;

	if (!s)
		return -EINVAL;
	/* RFC 3339 §5.6: full-date "T" full-time */
	if (!digits(&p, 4, &year) || !expect(&p, '-') || !digits(&p, 2, &mon) || !expect(&p, '-') ||
	    !digits(&p, 2, &day))
		return -EINVAL;
	if (*p != 'T' && *p != 't')
		return -EINVAL;
	p++;
	if (!digits(&p, 2, &hour) || !expect(&p, ':') || !digits(&p, 2, &min) || !expect(&p, ':') ||
	    !digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		unsigned scale = 100;

		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			/* digits past the third are dropped (scale is 0 by then) */
			frac += (unsigned)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 ||
	    min > 59 || sec > 60 || oh > 23 || om > 59)
		return -EINVAL;

	ms = days_from_civil(year, mon, day) * 86400000;
	ms += ((int64_t)hour * 3600 + min * 60 + sec) * 1000 + frac;
	/* local time = UTC + offset */
	ms -= sign * ((int64_t)oh * 3600 + om * 60) * 1000;
	*ret_ms = ms;
	return 0;
}

size_t ocpp_time_format(int64_t ms, char *buf, size_t len)
{
	/* 0000-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z */
	const int64_t lo = -62167219200000LL, hi = 253402300799999LL;
	int64_t days, rem, y;
	unsigned m, d;
	int n;

	if (len > 0)
		buf[0] = '\0';
	if (len < OCPP_TIME_LEN + 1 || ms < lo || ms > hi)
		return 0;
	days = ms / 86400000;
	rem = ms % 86400000;
	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, len, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y, m, d,
		     (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
		     (int)(rem % 1000));
	return n == OCPP_TIME_LEN ? (size_t)n : 0;
}
