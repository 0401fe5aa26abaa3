// $JS.API.INFO: the account's usage, limits and API counters.

import { API_LEVEL } from "../api-level.js";
import type { AccountLimits } from "../js-account.js";
import type { ApiRoute } from "./types.js";

const ZERO_LIMITS: AccountLimits = {
  max_memory: 0,
  max_storage: 0,
  max_streams: 0,
  max_consumers: 0,
  max_ack_pending: 0,
  memory_max_stream_bytes: 0,
  storage_max_stream_bytes: 0,
  max_bytes_required: false,
};

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
    // Tiered limits: the totals carry no limits; each tier its own usage (every stream here is R1).
    const set = acc.limitTiers;
    if (set.default === undefined) {
      out.limits = { ...ZERO_LIMITS };
      const tiers: Record<string, unknown> = {};
      for (const [name, limits] of Object.entries(set.tiers)) {
        const used = name === "R1";
        tiers[name] = {
          memory: used ? u.memory : 0,
          storage: used ? u.storage : 0,
          streams: used ? u.streams : 0,
          consumers: used ? u.consumers : 0,
          limits: { ...limits },
        };
      }
      out.tiers = tiers;
    }
    if (acc.domain) out.domain = acc.domain;
    out.api = { level: API_LEVEL, total: acc.api.total, errors: acc.api.errors };
    return out;
  },
};
