/* SPDX-License-Identifier: MIT */
/* What the simulator integration tests share: setting up a fleet and its CSMS, running cpsim
 * and reading its output. */
#include "simrun.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "harness.h"

/* The wall clock, ms since the epoch. */
int64_t simrun_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ms as RFC 3339 UTC (seconds). */
void simrun_fmt_utc(int64_t ms, char buf[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Start argv (argv[0] a path) with output appended to log. 0 or -errno. */
int simrun_spawn(const char *const *argv, const char *log, pid_t *ret_pid)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		union {
			const char *const *c;
			char *const *m;
		} u = {.c = argv}; /* execv's argv is char *const[] only for old callers */

		execv(argv[0], u.m);
		_exit(127);
	}
	*ret_pid = pid;
	return 0;
}

/* Wait up to max_s for pid; its exit status, 128+signal, or -ETIMEDOUT (then SIGKILLed). */
int simrun_wait_child(pid_t pid, int max_s)
{
	int status;

	for (int i = 0; i < max_s * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -ETIMEDOUT;
}

/* Copy a file to stderr (a failing test's logs). */
void simrun_dump_file(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(f);
}

/* 1 and *ret_status if pid has exited (exit status or 128+signal), else 0. */
int simrun_child_done(pid_t pid, int *ret_status)
{
	int status;

	if (waitpid(pid, &status, WNOHANG) != pid)
		return 0;
	*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 1;
}

int simrun_fleet_emit(const struct simrun_fleet *f)
{
	const char *argv[32];
	size_t n = 0;
	pid_t pid = 0;
	int r;

	argv[n++] = f->cpsim;
	argv[n++] = "--scenario";
	argv[n++] = f->scenario;
	for (size_t i = 0; f->emit_args && f->emit_args[i]; i++) {
		if (n + 5 >= sizeof(argv) / sizeof(argv[0]))
			return -E2BIG;
		argv[n++] = f->emit_args[i];
	}
	argv[n++] = "--emit-stations";
	argv[n++] = f->stations;
	argv[n++] = "--emit-config";
	argv[n++] = f->tokens;
	argv[n] = NULL;
	r = simrun_spawn(argv, f->log, &pid);
	if (r == 0)
		r = simrun_wait_child(pid, 10);
	if (r != 0)
		fprintf(stderr, "simrun: cpsim --emit-stations: %d\n", r);
	return r;
}

int simrun_fleet_start(struct csms_proc *p, const struct simrun_fleet *f)
{
	const char *imp[] = {"stations", "import",  f->import ? f->import : f->stations,
			     "--config", p->config, "--db",
			     p->db,	 NULL};
	char speed[16];
	const char *clock[] = {"--clock-start",
			       f->clock_start,
			       "--clock-speed",
			       speed,
			       "--clock-anchor",
			       f->clock_anchor,
			       NULL};
	json_error_t je;
	json_t *cfg;
	int r;

	cfg = json_load_file(f->tokens, 0, &je);
	if (!cfg) {
		fprintf(stderr, "simrun: %s: %s\n", f->tokens, je.text);
		return -EINVAL;
	}
	for (size_t i = 0; f->keys && f->keys[i].name; i++)
		json_object_set_new(cfg, f->keys[i].name, json_integer(f->keys[i].value));
	r = json_dump_file(cfg, p->config, 0);
	json_decref(cfg);
	if (r < 0) {
		fprintf(stderr, "simrun: cannot write %s\n", p->config);
		return -EIO;
	}
	r = csms_cli(p, imp);
	for (size_t i = 0; r == 0 && f->tariffs && f->tariffs[i].file; i++) {
		const char *tariff[] = {"tariffs", "import",	   f->tariffs[i].file,	     "--db",
					p->db,	   "--site-kinds", f->tariffs[i].site_kinds, NULL};

		r = csms_cli(p, tariff);
	}
	if (r != 0) {
		fprintf(stderr, "simrun: a csms command before the launch: %d\n", r);
		return r < 0 ? r : -ECHILD;
	}
	snprintf(speed, sizeof(speed), "%d", f->clock_speed);
	r = csms_launch(p, f->clock_start ? clock : NULL);
	if (r < 0)
		fprintf(stderr, "simrun: csms_launch: %d\n", r);
	return r;
}

long long simrun_q1(sqlite3 *db, const char *fmt, ...)
{
	char sql[2048];
	sqlite3_stmt *st;
	long long v = -1;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(sql))
		fail_msg("simrun_q1: a query of %d bytes", n);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
		fail();
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}
