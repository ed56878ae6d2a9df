/* SPDX-License-Identifier: MIT */
/* Battery-swap stations (docs/swap.md): port heavy-truck and light-commercial racks, trucks in
 * waves at shift changes, and the BatterySwap / RequestBatterySwap DataTransfer convention. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct cpsim_cp;
struct cpsim_connector;
struct cpsim_ev;
struct cpsim_jw;
struct cpsim_qmsg;

/* A swap station's fleet: port heavy trucks (even charger index) or light commercial vehicles. */
bool cpsim_swap_port(const struct cpsim_cp *cp);

/* The next vehicle after after_ms (simulated, local time as site.h): port trucks come in waves
 * around the shift changes 06:00, 14:00 and 22:00 and seldom between; light commercial vehicles
 * through the working day, seldom at night. */
int64_t cpsim_swap_next_arrival(bool port, uint64_t *rng, int64_t after_ms, bool first);

/* A depleted pack for a slot: a 282 kWh truck pack (port) or a 60-75 kWh van pack. */
void cpsim_swap_draw_pack(bool port, uint64_t *rng, struct cpsim_ev *ret);

/* The serial of the pack racked by session c->session of slot c, into buf (>= 64 bytes). */
void cpsim_swap_serial(const struct cpsim_cp *cp, const struct cpsim_connector *c, char *buf,
		       unsigned len);

/* DataTransfer BatterySwap (event "BatteryIn", "BatteryOut") of the pack in slot c; request_id 0
 * with id_token NULL: a pack stocked from the store (idToken type NoAuthorization). */
struct cpsim_qmsg *cpsim_swap_event(struct cpsim_cp *cp, struct cpsim_connector *c,
				    const char *event, int32_t request_id, const char *id_token);

/* A CSMS DataTransfer RequestBatterySwap: answered into w (Accepted at a swap station: a vehicle
 * with that requestId and idToken comes next; else Rejected). false if not that message. */
bool cpsim_swap_request(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w);
