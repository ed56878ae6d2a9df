/* SPDX-License-Identifier: MIT */
/* Fuzz target: bytes -> ocpp_frame_parse; a CALL's payload is validated by both catalogues. */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "ocpp.h"

static struct ocpp_catalog *catalogs[_OCPP_VERSION_MAX];

static void catalogs_free(void)
{
	for (int v = 0; v < _OCPP_VERSION_MAX; v++)
		ocpp_catalog_destroy(catalogs[v]);
}

static void catalogs_init(void)
{
	if (catalogs[0])
		return;
	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		catalogs[v] = ocpp_catalog_create((enum ocpp_version)v);
		FUZZ_CHECK(catalogs[v] != NULL);
	}
	atexit(catalogs_free);
}

/* A description the code hands to a peer: NUL-terminated within its buffer and valid UTF-8. */
static void check_text(const char *s, size_t cap)
{
	json_t *j;

	FUZZ_CHECK(memchr(s, '\0', cap) != NULL);
	j = json_string(s);
	FUZZ_CHECK(j != NULL);
	json_decref(j);
}

static void check_id(const char *id)
{
	size_t n = strnlen(id, OCPP_ID_MAX + 1);

	FUZZ_CHECK(n >= 1 && n <= OCPP_ID_MAX);
}

/* What the connection does with a frame it cannot parse: answer with a CALLERROR. */
static void check_parse_error(const struct ocpp_parse_error *pe)
{
	FUZZ_CHECK(pe->code == OCPP_ERR_FORMATION ||
		   pe->code == OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED ||
		   pe->code == OCPP_ERR_RPC_FRAMEWORK);
	check_id(pe->id);
	check_text(pe->desc, sizeof(pe->desc));
	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		struct ocpp_frame back;
		size_t len;
		char *text =
		    ocpp_frame_error((enum ocpp_version)v, pe->id, pe->code, pe->desc, &len);

		FUZZ_CHECK(text != NULL);
		FUZZ_CHECK(strlen(text) == len);
		FUZZ_CHECK(ocpp_frame_parse(text, len, &back, NULL) == 0);
		FUZZ_CHECK(back.type == OCPP_CALLERROR);
		FUZZ_CHECK(strcmp(back.id, pe->id) == 0);
		FUZZ_CHECK(ocpp_err_from_name(back.err_code) >= 0);
		ocpp_frame_release(&back);
		free(text);
	}
}

/* Serialize a parsed frame again and parse that: the same frame comes back. */
static void check_round_trip(const struct ocpp_frame *fr)
{
	struct ocpp_frame back;
	char *text = NULL;
	size_t len = 0;

	if (fr->type == OCPP_CALL)
		text = ocpp_frame_call(fr->id, fr->action, fr->payload, &len);
	else if (fr->type == OCPP_CALLRESULT)
		text = ocpp_frame_result(fr->id, fr->payload, &len);
	else
		return;
	FUZZ_CHECK(text != NULL);
	FUZZ_CHECK(ocpp_frame_parse(text, len, &back, NULL) == 0);
	FUZZ_CHECK(back.type == fr->type);
	FUZZ_CHECK(strcmp(back.id, fr->id) == 0);
	if (fr->type == OCPP_CALL)
		FUZZ_CHECK(strcmp(back.action, fr->action) == 0);
	FUZZ_CHECK(json_equal(back.payload, fr->payload));
	ocpp_frame_release(&back);
	free(text);
}

static void validate_call(const struct ocpp_frame *fr)
{
	catalogs_init();
	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		const struct ocpp_msg_def *d = ocpp_catalog_find(catalogs[v], fr->action);

		for (int response = 0; response <= 1; response++) {
			char desc[160];
			enum ocpp_err e;

			memset(desc, 'x', sizeof(desc));
			e = ocpp_catalog_validate(catalogs[v], fr->action, response, fr->payload,
						  desc, sizeof(desc));
			FUZZ_CHECK((int)e >= 0 && e < _OCPP_ERR_MAX);
			FUZZ_CHECK(d || e == OCPP_ERR_NOT_IMPLEMENTED);
			/* a broken schema is the only source of INTERNAL: never from input */
			FUZZ_CHECK(e != OCPP_ERR_INTERNAL);
			if (e != OCPP_ERR_NONE) {
				check_text(desc, sizeof(desc));
				FUZZ_CHECK(ocpp_err_name((enum ocpp_version)v, e) != NULL);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocpp_frame fr;
	struct ocpp_parse_error pe;
	int r;

	memset(&fr, 0, sizeof(fr));
	r = ocpp_frame_parse((const char *)data, size, &fr, &pe);
	if (r < 0) {
		FUZZ_CHECK(r == -EPROTO);
		FUZZ_CHECK(fr.root == NULL);
		check_parse_error(&pe);
		return 0;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(fr.root != NULL);
	check_id(fr.id);
	switch (fr.type) {
	case OCPP_CALL:
		FUZZ_CHECK(fr.action != NULL);
		FUZZ_CHECK(json_is_object(fr.payload));
		validate_call(&fr);
		break;
	case OCPP_CALLRESULT:
		FUZZ_CHECK(json_is_object(fr.payload));
		break;
	case OCPP_CALLERROR:
		FUZZ_CHECK(fr.err_code != NULL && fr.err_desc != NULL);
		FUZZ_CHECK(json_is_object(fr.payload));
		break;
	default:
		FUZZ_CHECK(!"message type");
	}
	check_round_trip(&fr);
	ocpp_frame_release(&fr);
	FUZZ_CHECK(fr.root == NULL);
	ocpp_frame_release(&fr); /* idempotent */
	return 0;
}
