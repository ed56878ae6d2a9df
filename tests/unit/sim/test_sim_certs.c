/* SPDX-License-Identifier: MIT */
/* Unit tests of per-charger client certificates: cpsim's flags and cpclient's load and mint. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpclient.h"
#include "scenario.h"

/* argv of n strings, writable copies (getopt may permute them). */
static char **argv_of(const char *const *args, int n)
{
	char **argv = calloc((size_t)n + 1, sizeof(*argv));

	assert_non_null(argv);
	for (int i = 0; i < n; i++) {
		argv[i] = strdup(args[i]);
		assert_non_null(argv[i]);
	}
	return argv;
}

static void argv_free(char **argv)
{
	for (int i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* Parse args (NULL-terminated) into a finished scenario: 0 or the error, err filled. */
static int parse(const char *const *args, struct cpsim_scenario *sc, char *err, size_t len)
{
	int n = 0, r;
	char **argv;

	while (args[n])
		n++;
	argv = argv_of(args, n);
	r = cpsim_scenario_from_args(sc, n, argv, err, len);
	argv_free(argv);
	return r;
}

static void test_cert_flags(void **state)
{
	struct cpsim_scenario sc;
	char err[256] = "";

	(void)state;
	{
		const char *const args[] = {"cpsim",  "--client-ca",  "ca.pem", "--client-ca-key",
					    "ca.key", "--cert-valid", "2",	NULL};

		assert_int_equal(parse(args, &sc, err, sizeof(err)), 0);
		assert_true(sc.tls); /* implied */
		assert_string_equal(sc.tls_client_ca, "ca.pem");
		assert_string_equal(sc.tls_client_ca_key, "ca.key");
		assert_int_equal(sc.tls_cert_valid_s, 7200);
		assert_null(sc.tls_cert_dir);
		cpsim_scenario_free(&sc);
	}
	{
		const char *const args[] = {"cpsim", "--cert-dir", "/tmp/certs", NULL};

		assert_int_equal(parse(args, &sc, err, sizeof(err)), 0);
		assert_true(sc.tls);
		assert_string_equal(sc.tls_cert_dir, "/tmp/certs");
		assert_int_equal(sc.tls_cert_valid_s, 0); /* 24 h when minting */
		cpsim_scenario_free(&sc);
	}
	{
		const char *const args[] = {"cpsim", "--client-ca", "ca.pem", NULL};

		assert_int_equal(parse(args, &sc, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "go together"));
		cpsim_scenario_free(&sc);
	}
	{
		const char *const args[] = {"cpsim",  "--cert-dir",	 "d",	   "--client-ca",
					    "ca.pem", "--client-ca-key", "ca.key", NULL};

		assert_int_equal(parse(args, &sc, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "alternatives"));
		cpsim_scenario_free(&sc);
	}
	{
		const char *const args[] = {"cpsim", "--cert",	   "c.pem", "--key",
					    "c.key", "--cert-dir", "d",	    NULL};

		assert_int_equal(parse(args, &sc, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "alternatives"));
		cpsim_scenario_free(&sc);
	}
	{
		const char *const args[] = {"cpsim", "--cert-valid", "0", NULL};

		assert_int_equal(parse(args, &sc, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "--cert-valid"));
		cpsim_scenario_free(&sc);
	}
}

/* A temp dir with a P-256 CA (ca.pem, ca.key) and another key (other.key), from openssl(1). */
static void make_ca(char *dir, size_t len)
{
	char cmd[1024];

	snprintf(dir, len, "%s/cpsim-certs-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && openssl ecparam -name prime256v1 -genkey -noout -out ca.key && "
		 "openssl req -x509 -new -key ca.key -subj /CN=unit-ca -days 1 -out ca.pem && "
		 "openssl ecparam -name prime256v1 -genkey -noout -out other.key && "
		 "printf 'not a certificate\\n' >junk.pem",
		 dir);
	if (system(cmd) != 0)
		fail_msg("openssl failed: %s", cmd);
}

static void rm_dir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_load_and_mint(void **state)
{
	struct cpclient_cert *ca = NULL, *c = NULL, *c2 = NULL;
	char dir[400], pem[450], key[450], other[450], junk[450], none[450];

	(void)state;
	make_ca(dir, sizeof(dir));
	snprintf(pem, sizeof(pem), "%s/ca.pem", dir);
	snprintf(key, sizeof(key), "%s/ca.key", dir);
	snprintf(other, sizeof(other), "%s/other.key", dir);
	snprintf(junk, sizeof(junk), "%s/junk.pem", dir);
	snprintf(none, sizeof(none), "%s/none.pem", dir);

	/* errors leave *ret untouched */
	assert_int_equal(cpclient_cert_load(none, key, &ca), -ENOENT);
	assert_int_equal(cpclient_cert_load(junk, key, &ca), -EINVAL);
	assert_int_equal(cpclient_cert_load(pem, other, &ca), -EINVAL); /* key of another */
	assert_null(ca);
	assert_int_equal(cpclient_cert_load(pem, key, &ca), 0);
	assert_non_null(ca);

	assert_int_equal(cpclient_cert_mint(ca, "", 60, &c), -EINVAL);
	assert_int_equal(cpclient_cert_mint(ca, "SIM-P-000001", 0, &c), -EINVAL);
	assert_int_equal(cpclient_cert_mint(NULL, "SIM-P-000001", 60, &c), -EINVAL);
	assert_null(c);
	assert_int_equal(cpclient_cert_mint(ca, "SIM-P-000001", 3600, &c), 0);
	assert_int_equal(cpclient_cert_mint(ca, "SIM-P-000002", 3600, &c2), 0);
	assert_non_null(c);
	assert_non_null(c2);
	assert_ptr_not_equal(c, c2);
	cpclient_cert_free(c);
	cpclient_cert_free(c2);
	cpclient_cert_free(ca);
	cpclient_cert_free(NULL);
	rm_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cert_flags),
	    cmocka_unit_test(test_load_and_mint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
