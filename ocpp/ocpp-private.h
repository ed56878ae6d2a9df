/* SPDX-License-Identifier: MIT */
/* Declarations shared inside libocpp and with its unit tests; not API. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ocpp.h"

/* The schema files embedded at build time by tools/embed.py, sorted by name. */
struct embedded_file {
	const char *name; /* base name without ".json", e.g. "BootNotificationResponse" */
	const char *data; /* NUL-terminated */
	size_t len;
};

extern const struct embedded_file ocpp_schemas_v16[];
extern const size_t ocpp_schemas_v16_count;
extern const struct embedded_file ocpp_schemas_v201[];
extern const size_t ocpp_schemas_v201_count;
extern const struct embedded_file ocpp_schemas_v21[];
extern const size_t ocpp_schemas_v21_count;

/* One row of a version's static action table. */
struct ocpp_action_row {
	const char *action;
	unsigned dir; /* mask of enum ocpp_dir */
	bool supported;
};

/*
** The static action table of v, sorted by strcmp of action, with its length in
** *ret_count. Returns NULL (and leaves *ret_count) for an out-of-range version.
*/
const struct ocpp_action_row *ocpp__action_table(enum ocpp_version v, size_t *ret_count);

/*
** The embedded schema files of v, with their number in *ret_count. Returns NULL
** (and leaves *ret_count) for an out-of-range version.
*/
const struct embedded_file *ocpp__schema_files(enum ocpp_version v, size_t *ret_count);

/*
** Byte length of the longest prefix of s[0..len) that is valid UTF-8 and does
** not end inside a multi-byte sequence.
*/
size_t ocpp__utf8_valid_prefix(const char *s, size_t len);

/* Truncate the NUL-terminated s to its longest valid UTF-8 prefix (see above). */
void ocpp__utf8_trim(char *s);
