/* SPDX-License-Identifier: MIT */
/* 13: a fleet on security profile 3 from one simulator process, each charger with its own client
 * certificate (cpsim --client-ca mints them, --cert-dir reads them); a charger that presents
 * another's certificate, and certificates of another CA, are refused (docs/security.md). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "harness.h"

#define FLEET	    20
#define CPSIM_MAX_S 60

/* A self-signed P-256 CA `name`.pem/.key with CN cn. */
static void make_ca(const char *dir, const char *name, const char *cn)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "openssl ecparam -name prime256v1 -genkey -noout -out %s.key && "
		 "openssl req -x509 -new -key %s.key -subj '/CN=%s' -days 2 -out %s.pem "
		 "-addext basicConstraints=critical,CA:TRUE "
		 "-addext keyUsage=critical,keyCertSign,cRLSign",
		 name, name, cn, name);
	tc_sh(dir, cmd);
}

/* name.pem/.key for cn (a P-256 key), signed by ca.pem with extensions ext (one per line). */
static void issue(const char *dir, const char *name, const char *cn, const char *ext)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "openssl ecparam -name prime256v1 -genkey -noout -out %s.key && "
		 "openssl req -new -key %s.key -subj '/CN=%s' -out %s.csr && "
		 "printf '%s\\n' >%s.ext && openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key "
		 "-CAcreateserial -days 2 -out %s.pem -extfile %s.ext",
		 name, name, cn, name, ext, name, name, name, name);
	tc_sh(dir, cmd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Import FLEET profile-3 stations prefix-P-000000.. without passwords. */
static void import_fleet(struct csms_proc *p, const char *prefix)
{
	char path[400], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.csv", p->dir, prefix);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("charger_id,site,site_kind,password,security_profile\n", f);
	for (int i = 0; i < FLEET; i++) {
		snprintf(line, sizeof(line), "%s-P-%06d,S-%s,public,,3\n", prefix, i, prefix);
		fputs(line, f);
	}
	assert_int_equal(fclose(f), 0);
	{
		const char *const args[] = {"stations", "import", path, "--db", p->db, NULL};

		assert_int_equal(csms_cli(p, args), 0);
	}
}

/*
** execv() with a const argv: POSIX declares argv char *const[] only for compatibility with old
** code and says the strings are not modified, so dropping the const here is sound.
*/
static void exec_const(const char *const *argv)
{
	union {
		const char *const *c;
		char *const *m;
	} u = {.c = argv};

	execv(argv[0], u.m);
}

/* Run cpsim with the common flags plus `extra` (NULL-terminated); its exit status (its log is
 * shown when that is not `expect`). */
static int cpsim(const struct csms_proc *p, const char *prefix, int chargers,
		 const char *const *extra, const char *report, int expect)
{
	const char *bin = getenv("CPSIM_BIN");
	char url[128], n[16], ca[400], log[400];
	const char *argv[40];
	int k = 0, status;
	pid_t pid;

	assert_non_null(bin);
	snprintf(url, sizeof(url), "wss://127.0.0.1:%d/ocpp", p->port);
	snprintf(n, sizeof(n), "%d", chargers);
	snprintf(ca, sizeof(ca), "%s/ca.pem", p->dir);
	snprintf(log, sizeof(log), "%s/cpsim.log", p->dir);
	argv[k++] = bin;
	argv[k++] = "--url";
	argv[k++] = url;
	argv[k++] = "--id-prefix";
	argv[k++] = prefix;
	argv[k++] = "--chargers";
	argv[k++] = n;
	argv[k++] = "--kind";
	argv[k++] = "public";
	argv[k++] = "--protocol";
	argv[k++] = "mixed";
	argv[k++] = "--ca";
	argv[k++] = ca;
	argv[k++] = "--server-name";
	argv[k++] = "localhost";
	argv[k++] = "--duration";
	argv[k++] = "4";
	argv[k++] = "--drain";
	argv[k++] = "3";
	argv[k++] = "--reconnect";
	argv[k++] = "0.5:1";
	argv[k++] = "--json-file";
	argv[k++] = report;
	while (extra && *extra && k < 39)
		argv[k++] = *extra++;
	argv[k] = NULL;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		exec_const(argv);
		_exit(127);
	}
	for (int i = 0; i < CPSIM_MAX_S * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != expect) {
				char cat[450];

				snprintf(cat, sizeof(cat), "cat '%s' >&2", log);
				if (system(cat) != 0)
					fprintf(stderr, "(no cpsim.log)\n");
			}
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -ETIMEDOUT;
}

static long long report_int(const char *report, const char *a, const char *b)
{
	json_error_t je;
	json_t *rep = json_load_file(report, 0, &je);
	long long v;

	if (!rep)
		fail_msg("%s: %s", report, je.text);
	v = json_integer_value(json_object_get(json_object_get(rep, a), b));
	json_decref(rep);
	return v;
}

/* How many stations whose id starts with prefix booted (the CSMS recorded a boot). */
static long long booted(const struct csms_proc *p, const char *like)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open_v2(p->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT count(*) FROM stations WHERE id LIKE ?1 "
					    "AND last_boot_ms IS NOT NULL",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_fleet_profile_3(void **state)
{
	struct csms_proc *p;
	char path[400], report[400], cadir[400], cakey[400], capem[400], rogue[400], rkey[400];
	char certs[400], cmd[1024];

	if (!getenv("CPSIM_BIN") || !*getenv("CPSIM_BIN"))
		skip();
	p = csms_prepare("{}");
	assert_non_null(p);
	*state = p;
	p->no_admin = true;
	make_ca(p->dir, "ca", "IT Fleet CA");
	make_ca(p->dir, "rogue", "IT Rogue CA");
	issue(p->dir, "server", "localhost",
	      "subjectAltName=DNS:localhost\\nextendedKeyUsage=serverAuth");
	snprintf(path, sizeof(path), "%s", p->config);
	snprintf(cmd, sizeof(cmd),
		 "{\"tls_cert\": \"%s/server.pem\", \"tls_key\": \"%s/server.key\", "
		 "\"tls_client_ca\": \"%s/ca.pem\", \"kdf_iterations\": 1000}\n",
		 p->dir, p->dir, p->dir);
	write_file(path, cmd);
	import_fleet(p, "TF"); /* certificates minted by cpsim */
	import_fleet(p, "TD"); /* certificates read from a directory */
	import_fleet(p, "TR"); /* certificates of another CA */
	assert_int_equal(csms_launch(p, NULL), 0);
	snprintf(capem, sizeof(capem), "%s/ca.pem", p->dir);
	snprintf(cakey, sizeof(cakey), "%s/ca.key", p->dir);
	snprintf(rogue, sizeof(rogue), "%s/rogue.pem", p->dir);
	snprintf(rkey, sizeof(rkey), "%s/rogue.key", p->dir);

	/* 20 chargers, each with its own minted certificate (CN = its id): all admitted; two
	 * worker processes of 10, each minting its share */
	snprintf(report, sizeof(report), "%s/minted.json", p->dir);
	{
		const char *const extra[] = {
		    "--client-ca", capem, "--client-ca-key", cakey, "--per-process", "10", NULL};

		assert_int_equal(cpsim(p, "TF", FLEET, extra, report, 0), 0);
	}
	assert_int_equal(booted(p, "TF-%"), FLEET);
	{
		json_error_t je;
		json_t *rep = json_load_file(report, 0, &je);

		assert_non_null(rep);
		assert_int_equal(json_integer_value(json_object_get(rep, "processes")), 2);
		json_decref(rep);
	}
	assert_true(report_int(report, "boots", "accepted") >= FLEET);
	assert_int_equal(report_int(report, "connections", "failed"), 0);
	assert_int_equal(report_int(report, "connections", "refused"), 0);

	/* --cert-dir: each charger's files, except that TD-P-000001 holds TD-P-000000's
	 * certificate and key: it is refused, the 19 others are admitted */
	snprintf(certs, sizeof(certs), "%s/certs", p->dir);
	snprintf(cadir, sizeof(cadir), "%s", p->dir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p certs && for i in $(seq -f %%06g 0 %d); do id=TD-P-$i; "
		 "openssl ecparam -name prime256v1 -genkey -noout -out certs/$id.key && "
		 "openssl req -new -key certs/$id.key -subj \"/CN=$id\" -out certs/$id.csr && "
		 "openssl x509 -req -in certs/$id.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		 "-days 1 -out certs/$id.crt || exit 1; done && "
		 "cp certs/TD-P-000000.crt certs/TD-P-000001.crt && "
		 "cp certs/TD-P-000000.key certs/TD-P-000001.key",
		 FLEET - 1);
	tc_sh(cadir, cmd);
	snprintf(report, sizeof(report), "%s/dir.json", p->dir);
	{
		const char *const extra[] = {"--cert-dir", certs, NULL};

		assert_int_equal(cpsim(p, "TD", FLEET, extra, report, 0), 0);
	}
	assert_int_equal(booted(p, "TD-%"), FLEET - 1);
	assert_int_equal(booted(p, "TD-P-000001"), 0);
	assert_true(report_int(report, "boots", "accepted") >= FLEET - 1);
	/* refused at the upgrade: the certificate is good, its CN is not the id */
	assert_true(report_int(report, "connections", "refused") > 0);

	/* minted by a CA the CSMS does not trust: no charger gets in */
	snprintf(report, sizeof(report), "%s/rogue.json", p->dir);
	{
		const char *const extra[] = {"--client-ca", rogue, "--client-ca-key", rkey, NULL};

		/* 3: nothing could connect */
		assert_int_equal(cpsim(p, "TR", 3, extra, report, 3), 3);
	}
	assert_int_equal(booted(p, "TR-%"), 0);
	assert_int_equal(report_int(report, "boots", "accepted"), 0);
	assert_true(report_int(report, "connections", "failed") > 0);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_fleet_profile_3, csms_teardown_chargers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
