/* SPDX-License-Identifier: MIT */
/* Bulk provisioning of chargers from CSV or JSON: csms stations import FILE. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct cfg;

/* Import FILE into cfg->db_path in one transaction. Prints each bad row as FILE:LINE: reason.
 * Returns the exit status: 0 imported, 1 bad rows (nothing imported unless skip_bad) or an
 * I/O error, 2 unusable file. */
int import_stations(const struct cfg *cfg, const char *path, bool skip_bad);

/* An id the import accepts (a charger, site or token id): 1..max bytes of printable ASCII,
 * no space and no '/'. The API's create routes use the same rule. */
bool import_id_ok(const char *s, size_t max);

/* A charger id that can log in: 1..48 characters of the OCPP identifierString set without ':'
 * (it is the user name of HTTP Basic auth). */
bool import_charger_id_ok(const char *s);
