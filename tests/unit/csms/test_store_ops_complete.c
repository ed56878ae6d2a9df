/* SPDX-License-Identifier: MIT */
/* Every backend compiled in implements every operation of struct store_ops: no function pointer
 * of store_sqlite_ops or store_pg_ops is NULL, and both implement the same version. Walks the
 * struct from .open to its end, so an operation appended to store.h is checked without a change
 * here (a backend that lacks it fails, naming its offset and the members around it). Built only
 * with libpq (without it store_pg_ops is the stub whose open() refuses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"

typedef void (*any_fn)(void);

/* Every member from .open on is a function pointer of the same size and alignment. */
static size_t first = offsetof(struct store_ops, open);
static size_t count(void)
{
	return (sizeof(struct store_ops) - first) / sizeof(any_fn);
}

static int missing(const struct store_ops *ops, const char *name)
{
	int n = 0;

	for (size_t i = 0; i < count(); i++) {
		any_fn fn;

		memcpy(&fn, (const char *)ops + first + i * sizeof(any_fn), sizeof(fn));
		if (!fn) {
			print_error(
			    "%s: operation %zu of %zu (byte offset %zu in struct store_ops) "
			    "is NULL\n",
			    name, i, count(), first + i * sizeof(any_fn));
			n++;
		}
	}
	return n;
}

static void test_layout(void **state)
{
	(void)state;
	/* the walk above is only sound if nothing but function pointers follows .open */
	assert_int_equal((sizeof(struct store_ops) - first) % sizeof(any_fn), 0);
	assert_int_equal(first % _Alignof(any_fn), 0);
	assert_true(count() >= 100);
}

static void test_sqlite_complete(void **state)
{
	(void)state;
	assert_int_equal(store_sqlite_ops.version, STORE_OPS_VERSION);
	assert_int_equal(missing(&store_sqlite_ops, "sqlite"), 0);
}

static void test_pg_complete(void **state)
{
	(void)state;
	assert_true(store_pg_built);
	assert_int_equal(store_pg_ops.version, STORE_OPS_VERSION);
	assert_string_equal(store_pg_ops.name, "postgres");
	assert_int_equal(missing(&store_pg_ops, "postgres"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_sqlite_complete),
	    cmocka_unit_test(test_pg_complete),
	};

	return cmocka_run_group_tests_name("store-ops-complete", tests, NULL, NULL);
}
