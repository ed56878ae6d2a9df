/* SPDX-License-Identifier: MIT */
/* Battery-swap stations: racks, vehicles and the DataTransfer convention of docs/swap.md. */
#include "swap.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "behaviour.h"
#include "cp-private.h"
#include "site.h"

#define MIN_MS	  (60LL * 1000)
#define HOUR_MS	  (60 * MIN_MS)
#define DAY_MS	  (24 * HOUR_MS)
#define VENDOR_ID "org.openchargenet.csms"

bool cpsim_swap_port(const struct cpsim_cp *cp)
{
	return (cp->index & 1) == 0;
}

/* Offset into the 8-hour shift cycle whose wave opens 30 min before 06:00, 14:00, 22:00. */
static int64_t wave_phase(int64_t t)
{
	int64_t x = cpsim_site_time_of_day(t) - 6 * HOUR_MS + 30 * MIN_MS;

	return ((x % (8 * HOUR_MS)) + 8 * HOUR_MS) % (8 * HOUR_MS);
}

int64_t cpsim_swap_next_arrival(bool port, uint64_t *rng, int64_t after_ms, bool first)
{
	int64_t tod = cpsim_site_time_of_day(after_ms), t, phase, wave;

	(void)first;
	if (!port) {
		/* vans: every ~12 min from 07:00 to 19:00, every ~2 h at night */
		bool day = tod >= 7 * HOUR_MS && tod < 19 * HOUR_MS;

		return after_ms + 1 +
		       (int64_t)cpsim_rng_exp(rng, day ? 12.0 * MIN_MS : 120.0 * MIN_MS);
	}
	/* trucks: in the hour around a shift change one every ~20 min (waves of 4-6 with the
	 * one at its opening), else one every ~12 h: some 15 a day. With one every ~15 min and
	 * ~6 h the waves were of 6-9 and the days of 21-30 swaps, more than a rack of 16 can
	 * charge in one cheap window */
	phase = wave_phase(after_ms);
	if (phase < 60 * MIN_MS)
		return after_ms + 1 + (int64_t)cpsim_rng_exp(rng, 20.0 * MIN_MS);
	t = after_ms + 1 + (int64_t)cpsim_rng_exp(rng, 720.0 * MIN_MS);
	wave = after_ms + (8 * HOUR_MS - phase);
	if (t > wave)
		t = wave + (int64_t)cpsim_rng_exp(rng, 5.0 * MIN_MS);
	return t;
}

void cpsim_swap_draw_pack(bool port, uint64_t *rng, struct cpsim_ev *ev)
{
	ev->capacity_wh = port ? 282e3 : cpsim_rng_range(rng, 60e3, 75e3);
	ev->soc = cpsim_rng_range(rng, 0.08, 0.3);
	ev->target_soc = 1.0;
	ev->max_charge_w = port ? 150e3 : 60e3;
	ev->min_soc = ev->soc;
	ev->max_discharge_w = 0;
	ev->v2g = false;
}

void cpsim_swap_serial(const struct cpsim_cp *cp, const struct cpsim_connector *c, char *buf,
		       unsigned len)
{
	char id[48];

	cpsim_cp_id(cp, id, sizeof(id));
	snprintf(buf, len, "%s-E%u-S%u", id, (unsigned)c->id, (unsigned)c->session);
}

/* A stable SoH per pack: 76..99.99 % (a few below the CSMS's 80 % threshold). */
static double pack_soh(const char *serial)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = serial; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return 76.0 + (double)(h % 2400) / 100.0;
}

struct cpsim_qmsg *cpsim_swap_event(struct cpsim_cp *cp, struct cpsim_connector *c,
				    const char *event, int32_t request_id, const char *id_token)
{
	struct cpsim_jw *w = &cp->f->jw, d = {0};
	char serial[64], vi[96];
	struct cpsim_qmsg *q;

	cpsim_swap_serial(cp, c, serial, sizeof(serial));
	snprintf(vi, sizeof(vi), "{\"type\":\"%s\",\"capacityWh\":%.0f}",
		 cpsim_swap_port(cp) ? "truck-282" : "van-lfp", c->ev.capacity_wh);
	/* the 2.1 BatterySwapRequest, carried as the JSON text of data */
	cpsim_jw_reset(&d);
	cpsim_jw_obj(&d);
	cpsim_jw_key(&d, "eventType");
	cpsim_jw_str(&d, event);
	cpsim_jw_key(&d, "requestId");
	cpsim_jw_int(&d, request_id);
	cpsim_jw_key(&d, "idToken");
	cpsim_jw_obj(&d);
	cpsim_jw_key(&d, "idToken");
	cpsim_jw_str(&d, id_token ? id_token : "");
	cpsim_jw_key(&d, "type");
	cpsim_jw_str(&d, id_token ? "Local" : "NoAuthorization");
	cpsim_jw_end(&d);
	cpsim_jw_key(&d, "batteryData");
	cpsim_jw_arr(&d);
	cpsim_jw_obj(&d);
	cpsim_jw_key(&d, "evseId");
	cpsim_jw_int(&d, c->id);
	cpsim_jw_key(&d, "serialNumber");
	cpsim_jw_str(&d, serial);
	cpsim_jw_key(&d, "soC");
	cpsim_jw_num(&d, fmin(100.0, fmax(0.0, c->ev.soc * 100.0)), 1);
	cpsim_jw_key(&d, "soH");
	cpsim_jw_num(&d, pack_soh(serial), 1);
	cpsim_jw_key(&d, "vendorInfo");
	cpsim_jw_str(&d, vi);
	cpsim_jw_end(&d);
	cpsim_jw_end(&d);
	/* the 2.1 shape has no time: customData of the project's vendor carries when it happened
	 * (a queued event is not taken for one at its arrival) and the slots' power, which the
	 * CSMS plans the rack with */
	cpsim_jw_key(&d, "customData");
	cpsim_jw_obj(&d);
	cpsim_jw_key(&d, "vendorId");
	cpsim_jw_str(&d, VENDOR_ID);
	cpsim_jw_key(&d, "timestamp");
	cpsim_bh_time(&d, cpsim_proto_now(cp));
	cpsim_jw_key(&d, "slotMaxPowerW");
	cpsim_jw_num(&d, cpsim_cp_hw_w(cp), 0);
	cpsim_jw_end(&d);
	cpsim_jw_end(&d);

	cpsim_jw_reset(w);
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "vendorId");
	cpsim_jw_str(w, VENDOR_ID);
	cpsim_jw_key(w, "messageId");
	cpsim_jw_str(w, "BatterySwap");
	cpsim_jw_key(w, "data");
	cpsim_jw_str(w, cpsim_jw_text(&d));
	cpsim_jw_end(w);
	cpsim_jw_free(&d);
	/* a swap order is money: kept across disconnects and retried like a transaction message */
	q = cpsim_qmsg_new(w, CPSIM_A_DATA_TRANSFER, c->id, c->session, true);
	return q;
}

bool cpsim_swap_request(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w)
{
	const char *vendor = ocpp_json_str(req, "vendorId"), *msg = ocpp_json_str(req, "messageId");
	const json_t *d = json_object_get(req, "data");
	json_t *o;
	bool ok = false;
	char inner[64];

	if (!vendor || strcmp(vendor, VENDOR_ID) || !msg || strcmp(msg, "RequestBatterySwap"))
		return false;
	o = json_is_string(d) ? json_loads(json_string_value(d), 0, NULL) : NULL;
	if (cp->kind == CPSIM_KIND_SWAP && json_is_integer(json_object_get(o, "requestId")) &&
	    ocpp_json_str(json_object_get(o, "idToken"), "idToken")) {
		cp->swap_request = (int32_t)json_integer_value(json_object_get(o, "requestId"));
		cp->t_swap = cp->f->now_ms + 1; /* the vehicle is at the station */
		ok = true;
	}
	json_decref(o);
	snprintf(inner, sizeof(inner), "{\"status\":\"%s\"}", ok ? "Accepted" : "Rejected");
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "status");
	cpsim_jw_str(w, ok ? "Accepted" : "Rejected");
	cpsim_jw_key(w, "data");
	cpsim_jw_str(w, inner);
	cpsim_jw_end(w);
	return true;
}
