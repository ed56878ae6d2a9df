/* SPDX-License-Identifier: MIT */
/* The per-version catalogue of OCPP actions: direction, support, and the official schemas. */
#include "ocpp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp-private.h"

#define CP   OCPP_CP_TO_CS
#define CS   OCPP_CS_TO_CP
#define BOTH (OCPP_CP_TO_CS | OCPP_CS_TO_CP)

/*
** OCPP 1.6 with the security whitepaper extension; sorted by strcmp, one row per
** schema pair in ocpp-16-schemas (test_catalog checks both). supported = listed in
** DESIGN.md §5. For a CSMS-initiated row it is what the CSMS may send (its API
** refuses the others). For a charger-initiated row it only records the design's
** list, for the simulator and the tests: the CSMS answers a charger's CALL from its
** adapter's action table (csms/ocpp16/actions.def, csms/ocpp201/actions.def), the one
** place that decides, and test_v16_table checks that table against this column.
*/
static const struct ocpp_action_row v16_actions[] = {
    {"Authorize", CP, true},
    {"BootNotification", CP, true},
    {"CancelReservation", CS, true},
    {"CertificateSigned", CS, true},
    {"ChangeAvailability", CS, true},
    {"ChangeConfiguration", CS, true},
    {"ClearCache", CS, true},
    {"ClearChargingProfile", CS, true},
    {"DataTransfer", BOTH, true},
    {"DeleteCertificate", CS, true},
    {"DiagnosticsStatusNotification", CP, true},
    {"ExtendedTriggerMessage", CS, true},
    {"FirmwareStatusNotification", CP, true},
    {"GetCompositeSchedule", CS, true},
    {"GetConfiguration", CS, true},
    {"GetDiagnostics", CS, true},
    {"GetInstalledCertificateIds", CS, true},
    {"GetLocalListVersion", CS, true},
    {"GetLog", CS, true},
    {"Heartbeat", CP, true},
    {"InstallCertificate", CS, true},
    {"LogStatusNotification", CP, true},
    {"MeterValues", CP, true},
    {"RemoteStartTransaction", CS, true},
    {"RemoteStopTransaction", CS, true},
    {"ReserveNow", CS, true},
    {"Reset", CS, true},
    {"SecurityEventNotification", CP, true},
    {"SendLocalList", CS, true},
    {"SetChargingProfile", CS, true},
    {"SignCertificate", CP, true},
    {"SignedFirmwareStatusNotification", CP, true},
    {"SignedUpdateFirmware", CS, true},
    {"StartTransaction", CP, true},
    {"StatusNotification", CP, true},
    {"StopTransaction", CP, true},
    {"TriggerMessage", CS, true},
    {"UnlockConnector", CS, true},
    {"UpdateFirmware", CS, true},
};

/*
** OCPP 2.0.1; sorted by strcmp, one row per schema pair in ocpp-20-schemas. The
** direction is the one OCPP 2.0.1 part 2 gives each message (PublishFirmware and
** UnpublishFirmware go CSMS -> local controller).
*/
static const struct ocpp_action_row v201_actions[] = {
    {"Authorize", CP, true},
    {"BootNotification", CP, true},
    {"CancelReservation", CS, true},
    {"CertificateSigned", CS, true},
    {"ChangeAvailability", CS, true},
    {"ClearCache", CS, true},
    {"ClearChargingProfile", CS, true},
    {"ClearDisplayMessage", CS, false},
    {"ClearVariableMonitoring", CS, false},
    {"ClearedChargingLimit", CP, true},
    {"CostUpdated", CS, false},
    {"CustomerInformation", CS, false},
    {"DataTransfer", BOTH, true},
    {"DeleteCertificate", CS, false},
    {"FirmwareStatusNotification", CP, true},
    {"Get15118EVCertificate", CP, false},
    {"GetBaseReport", CS, true},
    {"GetCertificateStatus", CP, false},
    {"GetChargingProfiles", CS, true},
    {"GetCompositeSchedule", CS, true},
    {"GetDisplayMessages", CS, false},
    {"GetInstalledCertificateIds", CS, false},
    {"GetLocalListVersion", CS, true},
    {"GetLog", CS, true},
    {"GetMonitoringReport", CS, false},
    {"GetReport", CS, true},
    {"GetTransactionStatus", CS, true},
    {"GetVariables", CS, true},
    {"Heartbeat", CP, true},
    {"InstallCertificate", CS, false},
    {"LogStatusNotification", CP, true},
    {"MeterValues", CP, true},
    {"NotifyChargingLimit", CP, true},
    {"NotifyCustomerInformation", CP, false},
    {"NotifyDisplayMessages", CP, false},
    {"NotifyEVChargingNeeds", CP, true},
    {"NotifyEVChargingSchedule", CP, false},
    {"NotifyEvent", CP, true},
    {"NotifyMonitoringReport", CP, false},
    {"NotifyReport", CP, true},
    {"PublishFirmware", CS, false},
    {"PublishFirmwareStatusNotification", CP, false},
    {"ReportChargingProfiles", CP, true},
    {"RequestStartTransaction", CS, true},
    {"RequestStopTransaction", CS, true},
    {"ReservationStatusUpdate", CP, true},
    {"ReserveNow", CS, true},
    {"Reset", CS, true},
    {"SecurityEventNotification", CP, true},
    {"SendLocalList", CS, true},
    {"SetChargingProfile", CS, true},
    {"SetDisplayMessage", CS, false},
    {"SetMonitoringBase", CS, false},
    {"SetMonitoringLevel", CS, false},
    {"SetNetworkProfile", CS, false},
    {"SetVariableMonitoring", CS, false},
    {"SetVariables", CS, true},
    {"SignCertificate", CP, true},
    {"StatusNotification", CP, true},
    {"TransactionEvent", CP, true},
    {"TriggerMessage", CS, true},
    {"UnlockConnector", CS, true},
    {"UnpublishFirmware", CS, false},
    {"UpdateFirmware", CS, true},
};

#undef CP
#undef CS
#undef BOTH

struct ocpp_catalog {
	enum ocpp_version version;
	size_t count;
	struct ocpp_msg_def *defs; /* parallel to the static table, same order */
	json_t **docs;		   /* 2 * count parsed schema documents, owned */
};

const struct ocpp_action_row *ocpp__action_table(enum ocpp_version v, size_t *ret_count)
{
	switch (v) {
	case OCPP_V16:
		*ret_count = sizeof(v16_actions) / sizeof(v16_actions[0]);
		return v16_actions;
	case OCPP_V201:
		*ret_count = sizeof(v201_actions) / sizeof(v201_actions[0]);
		return v201_actions;
	default:
		return NULL;
	}
}

const struct embedded_file *ocpp__schema_files(enum ocpp_version v, size_t *ret_count)
{
	switch (v) {
	case OCPP_V16:
		*ret_count = ocpp_schemas_v16_count;
		return ocpp_schemas_v16;
	case OCPP_V201:
		*ret_count = ocpp_schemas_v201_count;
		return ocpp_schemas_v201;
	default:
		return NULL;
	}
}

static int cmp_file(const void *key, const void *elem)
{
	return strcmp(key, ((const struct embedded_file *)elem)->name);
}

/* Parse the embedded schema called name, or NULL if there is none or it is not JSON. */
static json_t *load_schema(const struct embedded_file *files, size_t n, const char *name)
{
	const struct embedded_file *f = bsearch(name, files, n, sizeof(*files), cmp_file);

	if (!f)
		return NULL;
	return json_loadb(f->data, f->len, JSON_REJECT_DUPLICATES, NULL);
}

struct ocpp_catalog *ocpp_catalog_create(enum ocpp_version v)
{
	const struct ocpp_action_row *rows;
	const struct embedded_file *files;
	size_t nrows = 0, nfiles = 0;
	struct ocpp_catalog *c;
	/* file names: 1.6 "X" and "XResponse"; 2.0.1 "XRequest" and "XResponse" */
	const char *req_suffix = v == OCPP_V16 ? "" : "Request";

	rows = ocpp__action_table(v, &nrows);
	files = ocpp__schema_files(v, &nfiles);
	if (!rows || !files)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->version = v;
	c->defs = calloc(nrows, sizeof(*c->defs));
	c->docs = calloc(2 * nrows, sizeof(*c->docs));
	if (!c->defs || !c->docs)
		goto fail;
	for (size_t i = 0; i < nrows; i++) {
		char name[128];
		struct ocpp_msg_def *d = &c->defs[i];

		snprintf(name, sizeof(name), "%s%s", rows[i].action, req_suffix);
		c->docs[2 * i] = load_schema(files, nfiles, name);
		snprintf(name, sizeof(name), "%sResponse", rows[i].action);
		c->docs[2 * i + 1] = load_schema(files, nfiles, name);
		c->count = i + 1; /* destroy frees what has been loaded so far */
		if (!c->docs[2 * i] || !c->docs[2 * i + 1])
			goto fail;
		d->action = rows[i].action;
		d->dir = rows[i].dir;
		d->supported = rows[i].supported;
		d->req_schema = c->docs[2 * i];
		d->conf_schema = c->docs[2 * i + 1];
	}
	return c;

fail:
	ocpp_catalog_destroy(c);
	return NULL;
}

void ocpp_catalog_destroy(struct ocpp_catalog *c)
{
	if (!c)
		return;
	if (c->docs)
		for (size_t i = 0; i < 2 * c->count; i++)
			json_decref(c->docs[i]);
	free(c->docs);
	free(c->defs);
	free(c);
}

enum ocpp_version ocpp_catalog_version(const struct ocpp_catalog *c)
{
	return c->version;
}

static int cmp_def(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ocpp_msg_def *)elem)->action);
}

const struct ocpp_msg_def *ocpp_catalog_find(const struct ocpp_catalog *c, const char *action)
{
	if (!c || !action)
		return NULL;
	return bsearch(action, c->defs, c->count, sizeof(*c->defs), cmp_def);
}

size_t ocpp_catalog_count(const struct ocpp_catalog *c)
{
	return c ? c->count : 0;
}

const struct ocpp_msg_def *ocpp_catalog_at(const struct ocpp_catalog *c, size_t i)
{
	if (!c || i >= c->count)
		return NULL;
	return &c->defs[i];
}

enum ocpp_err ocpp_catalog_validate(const struct ocpp_catalog *c, const char *action, bool response,
				    const json_t *payload, char *desc, size_t desc_len)
{
	const struct ocpp_msg_def *d = ocpp_catalog_find(c, action);
	const json_t *schema;

	if (!d) {
		if (desc && desc_len) {
			snprintf(desc, desc_len, "unknown action %s", action ? action : "(null)");
			ocpp__utf8_trim(desc);
		}
		return OCPP_ERR_NOT_IMPLEMENTED;
	}
	schema = response ? d->conf_schema : d->req_schema;
	return ocpp_schema_validate(c->version, schema, schema, payload, desc, desc_len);
}

enum ocpp_err ocpp_v21_validate(enum ocpp_version v, const char *name, const json_t *payload,
				char *desc, size_t desc_len)
{
	json_t *schema;
	enum ocpp_err e;

	if (desc && desc_len)
		desc[0] = '\0';
	if (!name || !bsearch(name, ocpp_schemas_v21, ocpp_schemas_v21_count,
			      sizeof(ocpp_schemas_v21[0]), cmp_file)) {
		if (desc && desc_len)
			snprintf(desc, desc_len, "no 2.1 schema %s", name ? name : "(null)");
		return OCPP_ERR_NOT_IMPLEMENTED;
	}
	schema = load_schema(ocpp_schemas_v21, ocpp_schemas_v21_count, name);
	if (!schema) {
		if (desc && desc_len)
			snprintf(desc, desc_len, "2.1 schema %s: not loaded", name);
		return OCPP_ERR_INTERNAL;
	}
	e = ocpp_schema_validate(v, schema, schema, payload, desc, desc_len);
	json_decref(schema);
	return e;
}
