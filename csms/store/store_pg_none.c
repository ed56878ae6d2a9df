/* SPDX-License-Identifier: MIT */
/* Built instead of store_pg.c when libpq is missing: a postgresql:// database is refused with
 * one clear message. */
#include <stdio.h>

#include "store.h"

const bool store_pg_built = false;

static struct store *none_open(const char *dsn, bool sync_full, char *err, size_t err_len)
{
	(void)dsn;
	(void)sync_full;
	snprintf(err, err_len,
		 "this csms was built without PostgreSQL support (no libpq-dev at "
		 "build time, or -Dpostgresql=disabled); use a SQLite path or rebuild");
	return NULL;
}

const struct store_ops store_pg_ops = {
    .version = STORE_OPS_VERSION,
    .name = "postgres",
    .open = none_open,
};
