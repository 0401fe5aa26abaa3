// $JS.API.INFO: the account's usage, limits and API counters.

import type { ApiRoute } from "./types.js";

/** JetStream API level this server implements (2.11 = 1: per-message TTL, delete markers). */
export const API_LEVEL = 1;

export const accountInfo: ApiRoute = {
  type: "account_info_response",
  handle(req) {
    const acc = req.account;
    const u = acc.usage();
    const out: Record<string, unknown> = {
      memory: u.memory,
      storage: u.storage,
      reserved_memory: 0,
      reserved_storage: 0,
      streams: u.streams,
      consumers: u.consumers,
      limits: { ...acc.limits },
    };
    if (acc.domain) out.domain = acc.domain;
    out.api = { level: API_LEVEL, total: acc.api.total, errors: acc.api.errors };
    return out;
  },
};
