/* SPDX-License-Identifier: MIT */
/* Tariff calendars between their JSON documents, the store and the node's registry (svc's
 * energy.h): loading a calendar by file or API merges its versions into the stored document. */
#pragma once

#include <stdint.h>

#include <jansson.h>

#include "tariff_json.h"

struct cfg;
struct energy;
struct store;
struct tariff_calendar;

/* Decode doc, merge it into the stored calendar of the same id (a version whose valid_from is
 * stored already replaces it, the others are added), validate the result and store it (in the
 * open group transaction; the caller commits). On success *ret_cal is the merged calendar
 * (caller owns it) and *ret_doc (if not NULL) the merged document (new reference). -EINVAL with
 * the exact place in reterr_msg for a bad or refused calendar; -EIO storage failure. */
int tariff_store_put(struct store *st, const json_t *doc, int64_t now_ms,
		     struct tariff_calendar **ret_cal, json_t **ret_doc,
		     char reterr_msg[TARIFF_JSON_ERR_MAX]);

/* Load every stored calendar into e. A stored calendar that no longer decodes is logged and
 * left out. Returns the number loaded or -EIO/-ENOMEM. */
int tariff_store_load(struct store *st, struct energy *e);

/* csms tariffs import FILE: store the calendar in FILE (merged as above) into cfg->db_path and,
 * if site_kinds is not NULL ("public,rural"), assign it to every site of those kinds. Prints
 * one line. Returns the exit status: 0 stored, 1 refused calendar (the place printed) or
 * storage error, 2 unusable file (not readable or not JSON) or bad site kinds. */
int tariff_import_file(const struct cfg *cfg, const char *path, const char *site_kinds);
