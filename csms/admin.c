/* SPDX-License-Identifier: MIT */
/* One-shot administration commands: operator accounts from the shell (the first admin comes
 * from here, never from a default password) and the online backup. */
#include "admin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/clock.h"
#include "core/pwhash.h"
#include "store/store.h"
#include "svc/account.h"

/* The first line of f, without its line end, into buf. */
static int read_line(FILE *f, char *buf, size_t len)
{
	size_t n;

	if (!fgets(buf, (int)len, f))
		return -EIO;
	n = strlen(buf);
	if (n && buf[n - 1] != '\n' && !feof(f))
		return -E2BIG;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

static int read_password(const char *file, char *buf, size_t len)
{
	struct termios old, quiet;
	bool tty = !file && isatty(STDIN_FILENO);
	FILE *f = stdin;
	int r;

	if (file) {
		f = fopen(file, "r");
		if (!f) {
			fprintf(stderr, "csms: %s: %s\n", file, strerror(errno));
			return -errno;
		}
	}
	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		fprintf(stderr, "Password: ");
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	} else {
		tty = false;
	}
	r = read_line(f, buf, len);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (file)
		fclose(f);
	if (r < 0)
		fprintf(stderr, "csms: no password given (first line of %s)\n",
			file ? file : "stdin");
	return r;
}

static int print_account(const struct store_account *a, void *ud)
{
	(void)ud;
	printf("%-32s %-8s%s\n", a->name, a->role, a->disabled ? " disabled" : "");
	return 0;
}

int admin_users(const struct cfg *cfg, const char *cmd, const char *name, const char *role_name,
		const char *password_file)
{
	char err[512], password[ACCOUNT_PASSWORD_MAX + 2];
	int64_t now = clock_system_now_ms(NULL);
	struct store_account acc = {.created_ms = now, .updated_ms = now};
	bool add = strcmp(cmd, "add") == 0, passwd = strcmp(cmd, "passwd") == 0;
	struct store *s = NULL;
	int role = -1, status = 1, r;

	if (!add && !passwd && strcmp(cmd, "list") != 0) {
		fprintf(stderr, "csms: users: expected add, list or passwd, got \"%s\"\n", cmd);
		return 2;
	}
	if ((add || passwd) && !account_name_valid(name)) {
		fprintf(stderr, "csms: users %s: NAME must be 1..64 of A-Z a-z 0-9 . _ @ -\n", cmd);
		return 2;
	}
	if (add && (role = account_role_from_string(role_name)) < 0) {
		fprintf(stderr, "csms: users add: --role admin|operator|viewer is required\n");
		return 2;
	}
	s = store_open(cfg->db_path, cfg->sync_full, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "csms: database: %s\n", err);
		return 1;
	}
	if (!add && !passwd) {
		r = store_accounts_list(s, print_account, NULL);
		status = r < 0 ? 1 : 0;
		goto out;
	}
	if (passwd && store_account_get(s, name, &acc) < 0) {
		fprintf(stderr, "csms: users passwd: no account %s\n", name);
		goto out;
	}
	if (add && store_account_get(s, name, &acc) == 0) {
		fprintf(stderr, "csms: users add: account %s exists (use csms users passwd)\n",
			name);
		goto out;
	}
	if (read_password(password_file, password, sizeof(password)) < 0)
		goto out;
	if (!account_password_acceptable(password)) {
		fprintf(stderr, "csms: password: %d..%d characters, no control characters\n",
			ACCOUNT_PASSWORD_MIN, ACCOUNT_PASSWORD_MAX);
		goto out;
	}
	snprintf(acc.name, sizeof(acc.name), "%s", name);
	if (add)
		snprintf(acc.role, sizeof(acc.role), "%s", account_role_to_string(role));
	if (pwhash_scrypt_create(password, PWHASH_SCRYPT_LOG2N, PWHASH_SCRYPT_R, PWHASH_SCRYPT_P,
				 acc.pw_hash, sizeof(acc.pw_hash)) < 0) {
		fprintf(stderr, "csms: cannot hash the password\n");
		goto out;
	}
	acc.updated_ms = now;
	r = add ? store_account_create(s, &acc) : store_account_update(s, &acc);
	/* a new password ends the account's browser sessions */
	if (r >= 0 && passwd)
		r = store_auth_sessions_delete(s, NULL, name, 0);
	if (r >= 0)
		r = store_commit(s);
	if (r < 0) {
		fprintf(stderr, "csms: users %s %s: %s\n", cmd, name,
			r == -EEXIST ? "exists" : store_errmsg(s));
		goto out;
	}
	printf("%s %s (%s)\n", add ? "created" : "new password for", acc.name, acc.role);
	status = 0;
out:
	explicit_bzero(password, sizeof(password));
	store_close(s);
	return status;
}

/* PostgreSQL: pg_dump's custom format (one snapshot: a consistent instant while the nodes
 * run), written to FILE.tmp, fsynced and renamed like the SQLite copy. The DSN goes to
 * pg_dump as its --dbname argument, never through a shell. */
static int backup_pg(const char *dsn, const char *file)
{
	char tmp[4096];
	int status, fd;
	pid_t pid;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= (int)sizeof(tmp)) {
		fprintf(stderr, "csms: backup: file name too long\n");
		return 2;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "csms: backup: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execlp("pg_dump", "pg_dump", "--format=custom", "--no-password", "--file", tmp,
		       "--dbname", dsn, (char *)NULL);
		fprintf(stderr,
			"csms: backup: cannot run pg_dump (install postgresql-client): %s\n",
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 127)
			fprintf(stderr, "csms: backup: pg_dump failed (status %d)\n",
				WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		unlink(tmp);
		return 1;
	}
	fd = open(tmp, O_RDONLY);
	if (fd < 0 || fsync(fd) < 0 || rename(tmp, file) < 0) {
		fprintf(stderr, "csms: backup: %s: %s\n", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return 1;
	}
	close(fd);
	printf("backup of the PostgreSQL database written to %s (pg_dump custom format; restore "
	       "with pg_restore, docs/operations.md)\n",
	       file);
	return 0;
}

int admin_backup(const struct cfg *cfg, const char *file)
{
	char err[512];

	if (store_dsn_is_pg(cfg->db_path))
		return backup_pg(cfg->db_path, file);
	if (store_sqlite_backup(cfg->db_path, file, err, sizeof(err)) < 0) {
		fprintf(stderr, "csms: backup: %s\n", err);
		return 1;
	}
	printf("backup of %s written to %s\n", cfg->db_path, file);
	return 0;
}
