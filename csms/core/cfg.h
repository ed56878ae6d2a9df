/* SPDX-License-Identifier: MIT */
/* Node configuration: defaults, a JSON file, then command-line overrides. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum cfg_registration { CFG_REG_CLOSED, CFG_REG_PENDING, CFG_REG_OPEN, _CFG_REG_MAX };

struct cfg {
	char listen_host[64];
	int listen_port;
	char *db_path;
	int registration; /* enum cfg_registration */
	int log_level;	  /* enum log_level */
	char *port_file;
	char *web_root;
	int heartbeat_interval_s;
	int pending_interval_s;
	int call_timeout_ms;
	int max_frame_bytes;
	int max_tx_queue;
	int max_call_queue;
	int max_connectors;
	int max_list_items;
	int boot_rate_per_s;
	int kdf_iterations;
	int drain_ms;
	bool sync_full; /* "sync": "full" (fsync per group commit) or "normal" */
	json_t *id_tokens; /* optional seed list of tokens; owned */
};

void cfg_init(struct cfg *c);
void cfg_free(struct cfg *c);
/* Apply a JSON config file. On error returns -EINVAL and writes one line into err. */
int cfg_load_file(struct cfg *c, const char *path, char *err, size_t err_len);
/* Apply one key (as named in the file) from a string, for command-line flags. */
int cfg_set(struct cfg *c, const char *key, const char *value, char *err, size_t err_len);
const char *cfg_registration_name(int r);
