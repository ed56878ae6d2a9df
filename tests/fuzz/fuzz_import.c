/* SPDX-License-Identifier: MIT */
/* Fuzz target: an import file (`csms stations import`) into an in-memory database. Byte 0:
 * bit 0 the file is JSON (else CSV), bit 1 --skip-bad. The rest is the file. Invariant: the
 * exit status is 0, 1 or 2 (no crash, no other outcome). Bad rows are reported on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/log.h"
#include "fuzz.h"
#include "import.h"

static struct {
	bool ready;
	struct cfg cfg;
	char dir[64], csv[96], json[96];
} w;

static void world_free(void)
{
	unlink(w.csv);
	unlink(w.json);
	rmdir(w.dir);
	cfg_free(&w.cfg);
}

static void world_init(void)
{
	if (w.ready)
		return;
	w.ready = true;
	log_set_level(LOG_ERR);
	cfg_init(&w.cfg);
	w.cfg.kdf_iterations = 1; /* every row with a password is hashed */
	free(w.cfg.db_path);
	w.cfg.db_path = strdup(":memory:");
	FUZZ_CHECK(w.cfg.db_path != NULL);
	snprintf(w.dir, sizeof(w.dir), "/tmp/fuzz_import.XXXXXX");
	FUZZ_CHECK(mkdtemp(w.dir) != NULL);
	snprintf(w.csv, sizeof(w.csv), "%s/stations.csv", w.dir);
	snprintf(w.json, sizeof(w.json), "%s/stations.json", w.dir);
	atexit(world_free);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path;
	FILE *f;
	int r;

	if (size < 1)
		return 0;
	world_init();
	path = data[0] & 1 ? w.json : w.csv;
	f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(fwrite(data + 1, 1, size - 1, f) == size - 1);
	FUZZ_CHECK(fclose(f) == 0);
	r = import_stations(&w.cfg, path, data[0] & 2);
	FUZZ_CHECK(r == 0 || r == 1 || r == 2);
	return 0;
}
