/* SPDX-License-Identifier: MIT */
/* Fuzz target: bytes as a config file -> cfg_load_file; the same bytes as a flag -> cfg_set. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/log.h"
#include "fuzz.h"

/* The documented bounds hold after any successful load. */
static void check_cfg(const struct cfg *c)
{
	FUZZ_CHECK(c->listen_port >= 0 && c->listen_port <= 65535);
	FUZZ_CHECK(memchr(c->listen_host, '\0', sizeof(c->listen_host)) != NULL);
	FUZZ_CHECK(c->db_path != NULL);
	FUZZ_CHECK(c->registration >= 0 && c->registration < _CFG_REG_MAX);
	FUZZ_CHECK(c->log_level >= 0 && c->log_level < _LOG_LEVEL_MAX);
	FUZZ_CHECK(c->heartbeat_interval_s >= 1 && c->heartbeat_interval_s <= 86400);
	FUZZ_CHECK(c->pending_interval_s >= 1 && c->pending_interval_s <= 86400);
	FUZZ_CHECK(c->call_timeout_ms >= 10 && c->call_timeout_ms <= 600000);
	FUZZ_CHECK(c->max_frame_bytes >= 1024 && c->max_frame_bytes <= 16 * 1024 * 1024);
	FUZZ_CHECK(c->max_tx_queue >= 1 && c->max_tx_queue <= 100000);
	FUZZ_CHECK(c->max_call_queue >= 1 && c->max_call_queue <= 100000);
	FUZZ_CHECK(c->max_connectors >= 1 && c->max_connectors <= 4096);
	FUZZ_CHECK(c->max_list_items >= 1 && c->max_list_items <= 100000);
	FUZZ_CHECK(c->boot_rate_per_s >= 1 && c->boot_rate_per_s <= 1000000);
	FUZZ_CHECK(c->kdf_iterations >= 1 && c->kdf_iterations <= 10000000);
	FUZZ_CHECK(c->drain_ms >= 0 && c->drain_ms <= 60000);
	FUZZ_CHECK(!c->id_tokens || json_is_array(c->id_tokens));
}

static void check_result(int r, const char *err, size_t cap)
{
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r == -EINVAL) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(memchr(err, '\0', cap) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const flag_keys[] = {"listen", "max_connectors", "registration", "db"};
	char path[64], err[256], *text;
	struct cfg c;
	int fd, r;

	/* an anonymous in-memory file: nothing is left behind when the fuzzer crashes */
	fd = memfd_create("fuzz_cfg", 0);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	cfg_init(&c);
	err[0] = '\0';
	r = cfg_load_file(&c, path, err, sizeof(err));
	check_result(r, err, sizeof(err));
	if (r == 0) {
		check_cfg(&c);
		/* a second load over the first frees what it replaces (LeakSanitizer checks) */
		err[0] = '\0';
		FUZZ_CHECK(cfg_load_file(&c, path, err, sizeof(err)) == 0);
		check_cfg(&c);
	}
	cfg_free(&c);
	close(fd);

	/* the same bytes as the value of a command-line flag */
	text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++) {
		cfg_init(&c);
		err[0] = '\0';
		r = cfg_set(&c, flag_keys[i], text, err, sizeof(err));
		check_result(r, err, sizeof(err));
		check_cfg(&c);
		cfg_free(&c);
	}
	free(text);
	return 0;
}
