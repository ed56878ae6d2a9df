/* SPDX-License-Identifier: MIT */
/* 17: id tokens (charging cards, RFID, app tokens) through the REST API (/api/id-tokens):
 *  - create, read, update, delete; a token created or blocked here decides a charger's
 *    Authorize; changes survive a restart;
 *  - the list's filters (status, group, owner site, id prefix), sorting and pages, with total;
 *  - 400 for bad bodies and queries, 401 without credentials, 403 for a viewer's writes, 404
 *    for unknown tokens, 409 for a token that exists. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define PASSWORD "id-token-test-password-01"

/* Authorize idTag at a connected 1.6 charger: the idTagInfo status. */
static const char *authorize(struct tcp *tc, const char *tag, char out[32])
{
	json_t *conf = NULL;

	assert_int_equal(
	    tc_call(tc, "Authorize", json_pack("{s:s}", "idTag", tag), &conf, NULL, 5000), 0);
	snprintf(out, 32, "%s", json_str(json_object_get(conf, "idTagInfo"), "status"));
	json_decref(conf);
	return out;
}

static void test_crud_and_authorize(void **state)
{
	struct csms_proc *p = *state;
	json_t *j = NULL, *conf = NULL;
	struct tcp *tc;
	char st[32], err[64];

	assert_int_equal(http_status(p->port, "POST", "/api/sites",
				     "{\"id\": \"S1\", \"kind\": \"public\"}", NULL),
			 201);
	assert_int_equal(
	    http_status(p->port, "POST", "/api/id-tokens",
			"{\"id\": \"CARD-0001\", \"group\": \"FLEET-A\", \"site\": \"S1\", "
			"\"expiry\": \"2030-01-01T00:00:00Z\"}",
			&j),
	    201);
	assert_string_equal(json_str(j, "id"), "CARD-0001");
	assert_string_equal(json_str(j, "status"), "Accepted"); /* the default */
	assert_string_equal(json_str(j, "group"), "FLEET-A");
	assert_string_equal(json_str(j, "site"), "S1");
	assert_non_null(strstr(json_str(j, "expiry"), "2030-01-01T00:00:00"));
	json_decref(j);
	assert_int_equal(http_status(p->port, "GET", "/api/id-tokens/CARD-0001", NULL, &j), 200);
	assert_string_equal(json_str(j, "group"), "FLEET-A");
	json_decref(j);

	/* a charger of site S1, created through the API too, sees the token's decisions */
	assert_int_equal(
	    http_status(p->port, "POST", "/api/stations",
			"{\"id\": \"CP-TOK-1\", \"site\": \"S1\", \"password\": \"" PASSWORD "\"}",
			NULL),
	    201);
	tc = tc_connect(p->port, "CP-TOK-1", PASSWORD, "ocpp1.6", 5000, NULL);
	assert_non_null(tc);
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	json_decref(conf);
	assert_string_equal(authorize(tc, "CARD-0001", st), "Accepted");
	assert_string_equal(authorize(tc, "CARD-NONE", st), "Invalid");

	/* update: block it, clear the group (null), keep the rest */
	assert_int_equal(http_status(p->port, "PUT", "/api/id-tokens/CARD-0001",
				     "{\"status\": \"Blocked\", \"group\": null}", &j),
			 200);
	assert_string_equal(json_str(j, "status"), "Blocked");
	assert_true(json_is_null(json_object_get(j, "group")));
	assert_string_equal(json_str(j, "site"), "S1");
	json_decref(j);
	assert_string_equal(authorize(tc, "CARD-0001", st), "Blocked");
	/* an expiry in the past: the charger hears Expired */
	assert_int_equal(
	    http_status(p->port, "PUT", "/api/id-tokens/CARD-0001",
			"{\"status\": \"Accepted\", \"expiry\": \"2020-01-01T00:00:00Z\"}", NULL),
	    200);
	assert_string_equal(authorize(tc, "CARD-0001", st), "Expired");
	assert_int_equal(
	    http_status(p->port, "PUT", "/api/id-tokens/CARD-0001", "{\"expiry\": null}", &j), 200);
	assert_true(json_is_null(json_object_get(j, "expiry")));
	json_decref(j);
	assert_string_equal(authorize(tc, "CARD-0001", st), "Accepted");
	tc_close(tc);

	/* durable: it survives a restart */
	assert_int_equal(csms_restart(p), 0);
	assert_int_equal(http_status(p->port, "GET", "/api/id-tokens/CARD-0001", NULL, &j), 200);
	assert_string_equal(json_str(j, "status"), "Accepted");
	assert_string_equal(json_str(j, "site"), "S1");
	json_decref(j);

	/* delete: 204, then unknown */
	assert_int_equal(http_status(p->port, "DELETE", "/api/id-tokens/CARD-0001", NULL, NULL),
			 204);
	assert_int_equal(http_status(p->port, "GET", "/api/id-tokens/CARD-0001", NULL, NULL), 404);
	assert_int_equal(http_status(p->port, "DELETE", "/api/id-tokens/CARD-0001", NULL, NULL),
			 404);
	assert_int_equal(http_status(p->port, "PUT", "/api/id-tokens/CARD-0001",
				     "{\"status\": \"Blocked\"}", NULL),
			 404);
	assert_int_equal(tc_shutdown(), 0);
}

/* The ids of the list's page, comma-joined into out. */
static const char *page(struct csms_proc *p, const char *query, long long *ret_total, char out[512])
{
	char path[256];
	json_t *j = NULL, *t;
	size_t i, n = 0;

	snprintf(path, sizeof(path), "/api/id-tokens%s", query);
	assert_int_equal(http_status(p->port, "GET", path, NULL, &j), 200);
	out[0] = '\0';
	json_array_foreach(json_object_get(j, "id_tokens"), i, t)
		n += (size_t)snprintf(out + n, 512 - n, "%s%s", i ? "," : "", json_str(t, "id"));
	if (ret_total)
		*ret_total = json_integer_value(json_object_get(j, "total"));
	json_decref(j);
	return out;
}

static void test_list_filters_pages(void **state)
{
	static const char *const bodies[] = {
	    "{\"id\": \"T-A1\", \"group\": \"G1\", \"site\": \"S2\", \"expiry\": "
	    "\"2031-01-01T00:00:00Z\"}",
	    "{\"id\": \"T-A2\", \"group\": \"G1\", \"status\": \"Blocked\", \"expiry\": "
	    "\"2029-01-01T00:00:00Z\"}",
	    "{\"id\": \"T-B1\", \"group\": \"G2\", \"site\": \"S2\", \"status\": \"Blocked\"}",
	    "{\"id\": \"T-B2\", \"status\": \"Invalid\", \"expiry\": \"2033-01-01T00:00:00Z\"}",
	    "{\"id\": \"U-C1\"}",
	};
	struct csms_proc *p = *state;
	char out[512];
	long long total;

	assert_int_equal(http_status(p->port, "POST", "/api/sites",
				     "{\"id\": \"S2\", \"kind\": \"residential\"}", NULL),
			 201);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		assert_int_equal(http_status(p->port, "POST", "/api/id-tokens", bodies[i], NULL),
				 201);

	assert_string_equal(page(p, "", &total, out), "T-A1,T-A2,T-B1,T-B2,U-C1");
	assert_int_equal(total, 5);
	assert_string_equal(page(p, "?status=Blocked", &total, out), "T-A2,T-B1");
	assert_int_equal(total, 2);
	assert_string_equal(page(p, "?group=G1", NULL, out), "T-A1,T-A2");
	assert_string_equal(page(p, "?site=S2", NULL, out), "T-A1,T-B1");
	assert_string_equal(page(p, "?q=T-B", NULL, out), "T-B1,T-B2");
	assert_string_equal(page(p, "?q=T-&status=Blocked&group=G2", NULL, out), "T-B1");
	/* sorted by expiry (none first ascending), newest first descending */
	assert_string_equal(page(p, "?sort=expiry&order=desc", NULL, out),
			    "T-B2,T-A1,T-A2,U-C1,T-B1");
	assert_string_equal(page(p, "?sort=status", NULL, out), "T-A1,U-C1,T-A2,T-B1,T-B2");
	/* pages keep the total of the whole list */
	assert_string_equal(page(p, "?limit=2&offset=2", &total, out), "T-B1,T-B2");
	assert_int_equal(total, 5);
	assert_string_equal(page(p, "?limit=2&offset=4&order=desc", &total, out), "T-A1");
	assert_int_equal(total, 5);
	assert_string_equal(page(p, "?q=ZZZ", &total, out), "");
	assert_int_equal(total, 0);

	/* bad queries */
	assert_int_equal(http_status(p->port, "GET", "/api/id-tokens?status=Bogus", NULL, NULL),
			 400);
	assert_int_equal(http_status(p->port, "GET", "/api/id-tokens?sort=colour", NULL, NULL),
			 400);
	assert_int_equal(http_status(p->port, "GET", "/api/id-tokens?order=up", NULL, NULL), 400);
	assert_int_equal(http_status(p->port, "GET", "/api/id-tokens?limit=0", NULL, NULL), 400);
	assert_int_equal(http_status(p->port, "GET", "/api/id-tokens?limit=100000", NULL, NULL),
			 400);
}

static void test_bad_bodies_conflicts(void **state)
{
	static const char *const bad[] = {
	    "not json",
	    "[1, 2]",
	    "{}",
	    "{\"id\": \"\"}",
	    "{\"id\": \"has space\"}",
	    "{\"id\": \"a/b\"}",
	    "{\"id\": 42}",
	    "{\"id\": \"T-X\", \"status\": \"Bogus\"}",
	    "{\"id\": \"T-X\", \"status\": \"ConcurrentTx\"}",
	    "{\"id\": \"T-X\", \"expiry\": \"tomorrow\"}",
	    "{\"id\": \"T-X\", \"site\": \"NO-SUCH-SITE\"}",
	    "{\"id\": \"T-X\", \"group\": \"with space\"}",
	    "{\"id\": \"T-X\", \"site\": 7}",
	};
	struct csms_proc *p = *state;
	char longid[100];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("body %s\n", bad[i]);
		assert_int_equal(http_status(p->port, "POST", "/api/id-tokens", bad[i], NULL), 400);
	}
	memset(longid, 'x', sizeof(longid));
	memcpy(longid, "{\"id\": \"", 8);
	memcpy(longid + 8 + 65, "\"}", 3); /* 65 characters: over TOKEN_MAX */
	assert_int_equal(http_status(p->port, "POST", "/api/id-tokens", longid, NULL), 400);
	/* nothing of those was stored */
	assert_int_equal(http_status(p->port, "GET", "/api/id-tokens/T-X", NULL, NULL), 404);

	assert_int_equal(
	    http_status(p->port, "POST", "/api/id-tokens", "{\"id\": \"DUP-1\"}", NULL), 201);
	assert_int_equal(http_status(p->port, "POST", "/api/id-tokens",
				     "{\"id\": \"DUP-1\", \"status\": \"Blocked\"}", NULL),
			 409);
	/* the conflict left it as it was */
	{
		json_t *j = NULL;

		assert_int_equal(http_status(p->port, "GET", "/api/id-tokens/DUP-1", NULL, &j),
				 200);
		assert_string_equal(json_str(j, "status"), "Accepted");
		json_decref(j);
	}
	assert_int_equal(
	    http_status(p->port, "PUT", "/api/id-tokens/DUP-1", "{\"status\": \"Nope\"}", NULL),
	    400);
	assert_int_equal(
	    http_status(p->port, "PUT", "/api/id-tokens/DUP-1", "{\"site\": \"NOPE\"}", NULL), 400);
	assert_int_equal(http_status(p->port, "PUT", "/api/id-tokens/DUP-1", "nope", NULL), 400);
}

static void test_roles(void **state)
{
	struct csms_proc *p = *state;
	char viewer[160], op[160];

	assert_int_equal(
	    http_bearer_header(p->port, "tok-viewer", "viewer", viewer, sizeof(viewer)), 0);
	assert_int_equal(http_bearer_header(p->port, "tok-operator", "operator", op, sizeof(op)),
			 0);
	assert_int_equal(http_status(p->port, "POST", "/api/id-tokens", "{\"id\": \"R-1\"}", NULL),
			 201);

	/* no credentials: 401 for reads and writes */
	assert_int_equal(http_status_as(p->port, NULL, "GET", "/api/id-tokens", NULL), 401);
	assert_int_equal(
	    http_status_as(p->port, NULL, "POST", "/api/id-tokens", "{\"id\": \"R-2\"}"), 401);
	/* a viewer reads, but writes nothing */
	assert_int_equal(http_status_as(p->port, viewer, "GET", "/api/id-tokens", NULL), 200);
	assert_int_equal(http_status_as(p->port, viewer, "GET", "/api/id-tokens/R-1", NULL), 200);
	assert_int_equal(
	    http_status_as(p->port, viewer, "POST", "/api/id-tokens", "{\"id\": \"R-2\"}"), 403);
	assert_int_equal(http_status_as(p->port, viewer, "PUT", "/api/id-tokens/R-1",
					"{\"status\": \"Blocked\"}"),
			 403);
	assert_int_equal(http_status_as(p->port, viewer, "DELETE", "/api/id-tokens/R-1", NULL),
			 403);
	assert_int_equal(http_status(p->port, "GET", "/api/id-tokens/R-2", NULL, NULL), 404);
	/* an operator writes */
	assert_int_equal(http_status_as(p->port, op, "POST", "/api/id-tokens", "{\"id\": \"R-2\"}"),
			 201);
	assert_int_equal(
	    http_status_as(p->port, op, "PUT", "/api/id-tokens/R-1", "{\"status\": \"Blocked\"}"),
	    200);
	assert_int_equal(http_status_as(p->port, op, "DELETE", "/api/id-tokens/R-2", NULL), 204);
	/* and each write is in the audit log */
	{
		json_t *j = NULL, *row;
		size_t i;
		int n = 0;

		assert_int_equal(http_status(p->port, "GET", "/api/audit?limit=100", NULL, &j),
				 200);
		json_array_foreach(json_object_get(j, "audit"), i, row)
			if (json_str(row, "path") &&
			    strstr(json_str(row, "path"), "/api/id-tokens") &&
			    json_str(row, "who") &&
			    !strcmp(json_str(row, "who"), "token:tok-operator"))
				n++;
		json_decref(j);
		assert_int_equal(n, 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_crud_and_authorize, csms_setup, csms_teardown),
	    cmocka_unit_test_setup_teardown(test_list_filters_pages, csms_setup, csms_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_bodies_conflicts, csms_setup, csms_teardown),
	    cmocka_unit_test_setup_teardown(test_roles, csms_setup, csms_teardown),
	};

	return cmocka_run_group_tests_name("id-tokens", tests, NULL, NULL);
}
