/* SPDX-License-Identifier: MIT */
/* The link (svc/link.h) to the stations connected to this node. */
#pragma once

struct svc_link_ops;

/* Its impl is the node's struct svc: svc_set_link(svc, &link_conn_ops, svc). */
extern const struct svc_link_ops link_conn_ops;
