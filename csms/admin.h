/* SPDX-License-Identifier: MIT */
/* One-shot administration commands: csms users add|list|passwd, csms backup FILE. */
#pragma once

struct cfg;

/*
** csms users add NAME --role ROLE, csms users passwd NAME, csms users list, on cfg->db_path
** (the server may be running). The password comes from password_file (its first line) or, if
** NULL, from stdin (first line; prompted without echo on a terminal). There is no default
** password. Returns the exit status: 0 done, 1 refused or failed (one line on stderr), 2 bad
** use.
*/
int admin_users(const struct cfg *cfg, const char *cmd, const char *name, const char *role,
		const char *password_file);
/* csms backup FILE: a consistent copy of cfg->db_path through SQLite's online backup, while
 * the server runs. Written to FILE.tmp, synced, then renamed. Returns the exit status. */
int admin_backup(const struct cfg *cfg, const char *file);
