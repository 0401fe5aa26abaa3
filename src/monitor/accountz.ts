import { iso } from "./format.js";
import { sublistStats } from "./subsz.js";
import { HttpError, type MonitoredServer } from "./types.js";

/**
 * Account names, or one account's detail with `?acc=`. `system_account` is left out when there is none
 * (nats-server omits it when empty too).
 */
export function accountz(server: MonitoredServer, q: URLSearchParams, now: Date): object {
  const sys = server.accountManager?.systemAccountName;
  const head = { server_id: server.id, now: iso(now), ...(sys ? { system_account: sys } : {}) };
  const name = q.get("acc") ?? "";
  if (name === "") return { ...head, accounts: [...server.accounts.keys()] };
  const acc = server.accounts.get(name);
  if (acc === undefined) throw new HttpError(400, `Account ${name} does not exist`);
  const js = server.options.jetstream?.enabled === true;
  return {
    ...head,
    account_detail: {
      account_name: acc.name,
      ...(acc.name === sys ? { is_system: true } : {}),
      // Accounts are created with the server and never updated yet.
      update_time: iso(server.startTime),
      expired: false,
      complete: true,
      jetstream_enabled: server.jetstreamMonitor?.accountEnabled?.(acc.name) ?? (js && acc.name === "$G"),
      leafnode_connections: 0,
      client_connections: acc.connections,
      subscriptions: acc.sublist.count,
      sublist_stats: sublistStats([acc]),
    },
  };
}
