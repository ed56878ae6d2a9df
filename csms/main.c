/* SPDX-License-Identifier: MIT */
/* csms: command line, configuration, and the event loop of one node. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include <uv.h>

#include "admin.h"
#include "api/api.h"
#include "app.h"
#include "core/cfg.h"
#include "core/log.h"
#include "ca.h"
#include "import.h"
#include "tariff_store.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: csms [--config FILE] [--listen HOST:PORT] [--api-listen HOST:PORT] [--db "
	    "PATH]\n"
	    "            [--registration closed|pending|open] [--log-level LEVEL]\n"
	    "            [--port-file FILE] [--web-root DIR] [--node-id ID]\n"
	    "            [--clock-start TIME --clock-speed N [--clock-anchor TIME]]  (demo clock)\n"
	    "       csms stations import FILE [--config FILE] [--db PATH] [--skip-bad]\n"
	    "       csms tariffs import FILE [--config FILE] [--db PATH] [--site-kinds KINDS]\n"
	    "       csms users add NAME --role admin|operator|viewer [--password-file F]\n"
	    "       csms users passwd NAME [--password-file F]   (else the password is read from "
	    "stdin)\n"
	    "       csms users list\n"
	    "       csms backup FILE [--config FILE] [--db PATH]  (while the server runs)\n"
	    "       csms ca init --dir DIR [--cn NAME] [--days N]  (the operator's CA)\n"
	    "       csms routes   (the REST API's routes, one \"METHOD /pattern\" a line)\n"
	    "       csms --help | --version\n"
	    "See docs/config.md for the configuration file.\n");
}

/* One plain line on stderr and exit status 2: bad flag, bad value, bad config. */
static int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "csms: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

/* One process may hold as many sockets as the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

enum {
	OPT_CONFIG = 256,
	OPT_LISTEN,
	OPT_DB,
	OPT_REG,
	OPT_LOG,
	OPT_PORT_FILE,
	OPT_WEB,
	OPT_CLOCK_START,
	OPT_CLOCK_SPEED,
	OPT_CLOCK_ANCHOR,
	OPT_API_LISTEN,
	OPT_LOG_FORMAT,
	OPT_NODE_ID,
	OPT_SKIP_BAD,
	OPT_ROLE,
	OPT_PASSWORD_FILE,
	OPT_SITE_KINDS
};

static const struct option options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"db", required_argument, NULL, OPT_DB},
    {"registration", required_argument, NULL, OPT_REG},
    {"log-level", required_argument, NULL, OPT_LOG},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"web-root", required_argument, NULL, OPT_WEB},
    {"clock-start", required_argument, NULL, OPT_CLOCK_START},
    {"clock-speed", required_argument, NULL, OPT_CLOCK_SPEED},
    {"clock-anchor", required_argument, NULL, OPT_CLOCK_ANCHOR},
    {"api-listen", required_argument, NULL, OPT_API_LISTEN},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"node-id", required_argument, NULL, OPT_NODE_ID},
    {"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
    {"role", required_argument, NULL, OPT_ROLE},
    {"site-kinds", required_argument, NULL, OPT_SITE_KINDS},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const char *const option_keys[] = {
    [OPT_LISTEN - OPT_CONFIG] = "listen",
    [OPT_DB - OPT_CONFIG] = "db",
    [OPT_REG - OPT_CONFIG] = "registration",
    [OPT_LOG - OPT_CONFIG] = "log_level",
    [OPT_PORT_FILE - OPT_CONFIG] = "port_file",
    [OPT_WEB - OPT_CONFIG] = "web_root",
    [OPT_CLOCK_START - OPT_CONFIG] = "clock_start",
    [OPT_CLOCK_SPEED - OPT_CONFIG] = "clock_speed",
    [OPT_CLOCK_ANCHOR - OPT_CONFIG] = "clock_anchor",
    [OPT_API_LISTEN - OPT_CONFIG] = "api_listen",
    [OPT_LOG_FORMAT - OPT_CONFIG] = "log_format",
    [OPT_NODE_ID - OPT_CONFIG] = "node_id",
};

/* "csms ca init --dir DIR [--cn NAME] [--days N]": create the operator's CA (docs/security.md).
 * Exit 0, 1 when it cannot be created (an existing key is never overwritten), 2 bad usage. */
static int ca_main(int argc, char **argv)
{
	const char *dir = NULL, *cn = "CSMS local CA";
	char err[512], *end;
	long days = 3650;
	int r;

	for (int i = 3; i < argc; i++) {
		if (i + 1 >= argc)
			return fail_usage("option %s needs a value", argv[i]);
		if (strcmp(argv[i], "--dir") == 0) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--cn") == 0) {
			cn = argv[++i];
		} else if (strcmp(argv[i], "--days") == 0) {
			days = strtol(argv[++i], &end, 10);
			if (*end || days < 1 || days > 36500)
				return fail_usage("--days: expected 1..36500");
		} else {
			return fail_usage("unknown option %s (see csms --help)", argv[i]);
		}
	}
	if (!dir || !*cn)
		return fail_usage("usage: csms ca init --dir DIR [--cn NAME] [--days N]");
	r = ca_init(dir, cn, (int)days, (int64_t)time(NULL) * 1000, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "csms: %s\n", err);
		return 1;
	}
	printf(
	    "CA created: %s/%s (key, mode 0600) and %s/%s (certificate); set \"ca_dir\": \"%s\"\n",
	    dir, CA_KEY_FILE, dir, CA_CERT_FILE, dir);
	return 0;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *import_file = NULL, *users_cmd = NULL, *users_name = NULL;
	const char *role = NULL, *password_file = NULL, *backup_file = NULL;
	const char *site_kinds = NULL;
	bool import = false, skip_bad = false, tariffs = false;
	char err[512];
	struct cfg cfg;
	struct app *app;
	uv_loop_t loop;
	int c, r;

	if (argc >= 2 && strcmp(argv[1], "ca") == 0) {
		if (argc < 3 || strcmp(argv[2], "init") != 0)
			return fail_usage("usage: csms ca init --dir DIR [--cn NAME] [--days N]");
		return ca_main(argc, argv);
	}
	/* "csms stations import FILE ...": a subcommand, then the usual options. */
	if (argc >= 3 && strcmp(argv[1], "stations") == 0) {
		if (strcmp(argv[2], "import") != 0 || argc < 4)
			return fail_usage(
			    "usage: csms stations import FILE [--db PATH] [--skip-bad]");
		import = true;
		import_file = argv[3];
		argv += 3;
		argc -= 3;
	} else if (argc >= 3 && strcmp(argv[1], "tariffs") == 0) {
		/* "csms tariffs import FILE [--db PATH] [--site-kinds K,K]" */
		if (strcmp(argv[2], "import") != 0 || argc < 4)
			return fail_usage(
			    "usage: csms tariffs import FILE [--db PATH] [--site-kinds KINDS]");
		tariffs = true;
		import_file = argv[3];
		argv += 3;
		argc -= 3;
	} else if (argc >= 2 && strcmp(argv[1], "users") == 0) {
		/* "csms users add|passwd NAME ..." / "csms users list ..." */
		if (argc < 3 || (strcmp(argv[2], "list") != 0 && (argc < 4 || argv[3][0] == '-')))
			return fail_usage(
			    "usage: csms users add NAME --role ROLE | passwd NAME | list");
		users_cmd = argv[2];
		users_name = strcmp(argv[2], "list") ? argv[3] : NULL;
		argv += users_name ? 3 : 2;
		argc -= users_name ? 3 : 2;
	} else if (argc == 2 && strcmp(argv[1], "routes") == 0) {
		/* "csms routes": the REST API's routes, one "METHOD /pattern" a line */
		api_routes_print(stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	} else if (argc >= 2 && strcmp(argv[1], "backup") == 0) {
		if (argc < 3 || argv[2][0] == '-')
			return fail_usage("usage: csms backup FILE [--db PATH]");
		backup_file = argv[2];
		argv += 2;
		argc -= 2;
	} else if (argc >= 2 && argv[1][0] != '-') {
		return fail_usage("unknown command \"%s\" (see csms --help)", argv[1]);
	}

	/* First pass: --config, so that flags override the file whatever their order. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", options, NULL)) != -1) {
		if (c == OPT_CONFIG)
			config = optarg;
		else if (c == 'h') {
			usage(stdout);
			return 0;
		} else if (c == 'V') {
			printf("csms %s\n", CSMS_VERSION);
			return 0;
		} else if (c == '?')
			return fail_usage("unknown option %s (see csms --help)", argv[optind - 1]);
		else if (c == ':')
			return fail_usage("option %s needs a value", argv[optind - 1]);
	}
	if (optind < argc)
		return fail_usage("unexpected argument \"%s\"", argv[optind]);

	cfg_init(&cfg);
	if (config && cfg_load_file(&cfg, config, err, sizeof(err)) < 0) {
		cfg_free(&cfg);
		return fail_usage("%s", err);
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, ":hV", options, NULL)) != -1) {
		if (c == OPT_SKIP_BAD) {
			skip_bad = true;
		} else if (c == OPT_SITE_KINDS) {
			site_kinds = optarg;
		} else if (c == OPT_ROLE) {
			role = optarg;
		} else if (c == OPT_PASSWORD_FILE) {
			password_file = optarg;
		} else if (c > OPT_CONFIG && c < OPT_SKIP_BAD) {
			char kerr[256];

			if (cfg_set(&cfg, option_keys[c - OPT_CONFIG], optarg, kerr, sizeof(kerr)) <
			    0) {
				cfg_free(&cfg);
				return fail_usage("%s", kerr);
			}
		}
	}
	if (skip_bad && !import) {
		cfg_free(&cfg);
		return fail_usage("--skip-bad belongs to \"csms stations import\"");
	}
	if (site_kinds && !tariffs) {
		cfg_free(&cfg);
		return fail_usage("--site-kinds belongs to \"csms tariffs import\"");
	}
	if ((role || password_file) && !users_cmd) {
		cfg_free(&cfg);
		return fail_usage("--role and --password-file belong to \"csms users\"");
	}
	if (users_cmd || backup_file) {
		log_set_level(cfg.log_level);
		r = users_cmd ? admin_users(&cfg, users_cmd, users_name, role, password_file)
			      : admin_backup(&cfg, backup_file);
		cfg_free(&cfg);
		return r;
	}
	if (cfg_check(&cfg, err, sizeof(err)) < 0) {
		cfg_free(&cfg);
		return fail_usage("%s", err);
	}
	if (store_dsn_is_pg(cfg.db_path) && !store_pg_built) {
		cfg_free(&cfg);
		return fail_usage("--db postgresql://…: this csms was built without PostgreSQL "
				  "support (no libpq-dev at build time, or -Dpostgresql=disabled)");
	}
	log_set_level(cfg.log_level);

	if (import) {
		r = import_stations(&cfg, import_file, skip_bad);
		cfg_free(&cfg);
		return r;
	}
	if (tariffs) {
		r = tariff_import_file(&cfg, import_file, site_kinds);
		cfg_free(&cfg);
		return r;
	}

	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&loop) != 0) {
		cfg_free(&cfg);
		fprintf(stderr, "csms: cannot create the event loop\n");
		return 1;
	}
	app = app_create(&cfg, &loop);
	if (!app) {
		cfg_free(&cfg);
		uv_loop_close(&loop);
		return 1;
	}
	r = app_run(app);
	app_destroy(app);
	uv_loop_close(&loop);
	return r;
}
