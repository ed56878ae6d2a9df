/* SPDX-License-Identifier: MIT */
/* Reservations tracked by the CSMS: what was sent (ReserveNow), what the station answered, and
 * what became of it: used by a session, cancelled, expired on the node's clock, or reported
 * expired or removed by the station (2.0.1 ReservationStatusUpdate). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/log.h"
#include "events.h"
#include "sites.h"
#include "svc.h"

static void set_status(struct svc *s, struct store_reservation *r, const char *status)
{
	snprintf(r->status, sizeof(r->status), "%s", status);
	r->updated_ms = svc_now_ms(s);
	if (store_reservation_put(svc_store(s), r) < 0)
		log_err("reservation %lld: cannot record %s", (long long)r->id, status);
}

static bool open_status(const char *st)
{
	return !strcmp(st, "Requested") || !strcmp(st, "Accepted");
}

int svc__resv_sending(struct svc *s, const char *station_id, const struct svc_cmd *cmd)
{
	struct store_station st;
	struct svc_site_policy p;
	struct store_reservation r = {.id = cmd->reservation_id};
	int64_t now = svc_now_ms(s);
	int rc;

	if (cmd->kind != SVC_CMD_RESERVE)
		return 0;
	rc = store_station_get(svc_store(s), station_id, &st);
	if (rc < 0)
		return rc == -ENOENT ? -ENOENT : -EIO;
	if (svc_site_policy(s, st.site_id, st.site_kind, &p) < 0)
		return -EIO;
	if (!p.reservations)
		return -EPERM;
	if (cmd->expiry_ms <= now ||
	    (p.reservation_max_s && cmd->expiry_ms - now > (int64_t)p.reservation_max_s * 1000))
		return -EINVAL;
	snprintf(r.station_id, sizeof(r.station_id), "%s", station_id);
	r.evse_id = cmd->evse_id;
	snprintf(r.id_tag, sizeof(r.id_tag), "%s", cmd->id_tag ? cmd->id_tag : "");
	r.expiry_ms = cmd->expiry_ms;
	r.created_ms = now;
	set_status(s, &r, "Requested");
	return 0;
}

void svc__resv_answered(struct svc *s, int kind, int64_t reservation_id,
			const struct svc_cmd_result *res)
{
	struct store_reservation r;

	if (kind != SVC_CMD_RESERVE && kind != SVC_CMD_CANCEL_RESERVATION)
		return;
	if (store_reservation_get(svc_store(s), reservation_id, &r) < 0)
		return;
	if (kind == SVC_CMD_RESERVE) {
		if (strcmp(r.status, "Requested") != 0)
			return;
		set_status(s, &r,
			   res->status == SVC_RES_ACCEPTED   ? "Accepted"
			   : res->status == SVC_RES_REJECTED ? "Rejected"
							     : "Failed");
	} else if (res->status == SVC_RES_ACCEPTED && open_status(r.status)) {
		set_status(s, &r, "Cancelled");
	}
}

void svc__resv_used(struct svc *s, const char *station_id, int64_t id, int64_t session_id)
{
	struct store_reservation r;

	if (store_reservation_get(svc_store(s), id, &r) < 0 ||
	    strcmp(r.station_id, station_id) != 0)
		return;
	if (!open_status(r.status))
		return;
	r.session_id = session_id;
	set_status(s, &r, "Used");
}

int svc_reservation_update(struct svc *s, const char *station_id, int64_t id, const char *status)
{
	struct store_reservation r;
	int rc = store_reservation_get(svc_store(s), id, &r);

	if (rc == -ENOENT || (rc == 0 && strcmp(r.station_id, station_id) != 0))
		return 0;
	if (rc < 0)
		return -EIO;
	if (!open_status(r.status))
		return 0;
	snprintf(r.status, sizeof(r.status), "%s",
		 !strcmp(status, "Removed") ? "Removed" : "Expired");
	r.updated_ms = svc_now_ms(s);
	return store_reservation_put(svc_store(s), &r) < 0 ? -EIO : 0;
}

#define EXPIRE_BATCH 64

struct due {
	struct store_reservation r[EXPIRE_BATCH];
	int n;
};

static int collect_due(const struct store_reservation *row, void *ud)
{
	struct due *d = ud;

	if (d->n == EXPIRE_BATCH)
		return -EAGAIN; /* the rest at the next tick */
	d->r[d->n++] = *row;
	return 0;
}

int svc_reservations_tick(struct svc *s)
{
	static struct due d; /* the loop's thread only */
	static int64_t last_ms;
	int64_t now = svc_now_ms(s);
	int r;

	if (now >= last_ms && now - last_ms < 1000)
		return 0; /* once a second of the node's clock */
	last_ms = now;
	d.n = 0;
	r = store_reservations_due(svc_store(s), svc_now_ms(s), collect_due, &d);
	if (r < 0 && r != -EAGAIN)
		return r;
	/* written after the read has finished: no update under a running query */
	for (int i = 0; i < d.n; i++) {
		log_info("reservation %lld at %s expired", (long long)d.r[i].id, d.r[i].station_id);
		set_status(s, &d.r[i], "Expired");
	}
	return d.n;
}
