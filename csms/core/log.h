/* SPDX-License-Identifier: MIT */
/* Leveled logging to stderr with one process-wide level. */
#pragma once

#include <stdbool.h>

enum log_level {
	LOG_ERR,
	LOG_WARN,
	LOG_NOTICE,
	LOG_INFO,
	LOG_DEBUG,
	_LOG_LEVEL_MAX,
	_LOG_LEVEL_INVALID = -22
};

/* Parse "err|warn|notice|info|debug"; -EINVAL if unknown. */
int log_level_from_string(const char *s);
void log_set_level(enum log_level l);
/* One JSON object per line ({"ts","level","msg"}) instead of text, for log collectors. */
void log_set_json(bool on);
enum log_level log_get_level(void);
void log_printf(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)	log_printf(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_printf(LOG_WARN, __VA_ARGS__)
#define log_notice(...) log_printf(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_printf(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_get_level() >= LOG_DEBUG)                                                  \
			log_printf(LOG_DEBUG, __VA_ARGS__);                                        \
	} while (0)
