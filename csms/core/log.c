/* SPDX-License-Identifier: MIT */
/* Leveled logging to stderr: one line per event, UTC timestamp, level tag. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum log_level log_level = LOG_NOTICE;
static bool log_json;

static const char *const level_names[_LOG_LEVEL_MAX] = {
    [LOG_ERR] = "err",	 [LOG_WARN] = "warn",	[LOG_NOTICE] = "notice",
    [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int log_level_from_string(const char *s)
{
	for (int i = 0; i < _LOG_LEVEL_MAX; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -EINVAL;
}

void log_set_level(enum log_level l)
{
	log_level = l;
}

void log_set_json(bool on)
{
	log_json = on;
}

/* The message as a JSON string body: quotes, backslashes and control characters escaped. */
static void put_json_string(const char *s, FILE *f)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_printf(enum log_level l, const char *fmt, ...)
{
	struct timeval tv;
	struct tm tm;
	char ts[32];
	va_list ap;

	if (l > log_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_json) {
		char msg[4096];

		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		flockfile(stderr);
		fprintf(stderr, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"", ts,
			(long)(tv.tv_usec / 1000), level_names[l]);
		put_json_string(msg, stderr);
		fputs("\"}\n", stderr);
		funlockfile(stderr);
		return;
	}
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ %s: ", ts, (long)(tv.tv_usec / 1000), level_names[l]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}
