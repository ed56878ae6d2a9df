/* SPDX-License-Identifier: MIT */
/* What the simulator integration tests share: running cpsim and reading its output. */
#include "simrun.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
