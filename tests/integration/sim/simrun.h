/* SPDX-License-Identifier: MIT */
/* What the simulator integration tests share: running cpsim and reading its output. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

int64_t simrun_now_ms(void);
void simrun_fmt_utc(int64_t ms, char buf[32]);
/* Start argv (argv[0] a path) with output appended to log. 0 or -errno. */
int simrun_spawn(const char *const *argv, const char *log, pid_t *ret_pid);
/* Wait up to max_s for pid; its exit status, 128+signal, or -ETIMEDOUT (then SIGKILLed). */
int simrun_wait_child(pid_t pid, int max_s);
int simrun_child_done(pid_t pid, int *ret_status);
void simrun_dump_file(const char *path);
