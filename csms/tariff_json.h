/* SPDX-License-Identifier: MIT */
/* Tariff calendars from JSON (the format of docs/tariffs/README.md). */
#pragma once

#include <jansson.h>

struct tariff_calendar;

#define TARIFF_JSON_ERR_MAX 256

/* Decode a calendar document. On success *ret_cal is a new calendar the caller owns
 * (tariff_calendar_destroy()). On failure returns -EINVAL (or -ENOMEM, -E2BIG) and writes to
 * reterr_msg (if not NULL) a JSON-path-like place and a reason, e.g.
 * "versions[0].periods[1].windows[2].tier: unknown tier \"valey\"". */
int tariff_json_decode(const json_t *root, struct tariff_calendar **ret_cal,
		       char reterr_msg[TARIFF_JSON_ERR_MAX]);

/* Read and decode a calendar file. Same contract; a file that is not JSON gives -EINVAL with
 * "line:column: reason", a missing file -ENOENT. */
int tariff_json_load_file(const char *path, struct tariff_calendar **ret_cal,
			  char reterr_msg[TARIFF_JSON_ERR_MAX]);
