// Publish/subscribe permission checks for one user. An instance holds no per-connection state, so the
// authenticator builds one per configured user and shares it (and its caches) across that user's connections.
import { isSubsetMatch, subjectMatches, subjectsCollide } from "../subjects/pattern.js";
import { isValidSubscribeSubject } from "../subjects/validate.js";
import { DEFAULT_RESPONSE_LIMITS, ResponsePermissions } from "./response-permissions.js";
import type { PermissionRules, ResponseLimits, UserPermissions } from "./types.js";

/** Queue group reserved for the server's own services; clients may never subscribe with it. */
export const RESERVED_QUEUE = "_sys_";

const CACHE_LIMIT = 1024;

interface QueueRule {
  subject: string;
  queue: string;
}

interface SubscribeRules {
  plain: string[];
  queued: QueueRule[];
}

export class Permissions {
  /** `max` 0 = unlimited, `expiresMs` 0 = never; undefined when responses are not specially allowed. */
  readonly allowResponses: ResponseLimits | undefined;

  // undefined = no such list. An empty pubAllow (only via allow_responses) denies every publish.
  private readonly pubAllow: string[] | undefined;
  private readonly pubDeny: string[] | undefined;
  private readonly subAllow: SubscribeRules | undefined;
  private readonly subDeny: SubscribeRules | undefined;
  private readonly pubCache = new Map<string, boolean>();
  private readonly deliveryCache = new Map<string, boolean>();

  private constructor(
    /** The rules this checker was built from. */
    readonly source: UserPermissions,
  ) {
    const p = source;
    const pub = p.publish;
    const sub = p.subscribe;
    this.allowResponses = normalizeResponses(p.allowResponses);
    this.pubAllow = nonEmpty(pub?.allow, "publish.allow", false)?.map((r) => r.subject);
    // allow_responses switches the implicit "allow everything" off: only responses may be published then.
    if (this.pubAllow === undefined && this.allowResponses !== undefined) this.pubAllow = [];
    this.pubDeny = nonEmpty(pub?.deny, "publish.deny", false)?.map((r) => r.subject);
    this.subAllow = splitRules(nonEmpty(sub?.allow, "subscribe.allow", true));
    this.subDeny = splitRules(nonEmpty(sub?.deny, "subscribe.deny", true));
  }

  /**
   * Builds the checker; undefined when `p` restricts nothing (the caller can then skip every check).
   * Throws when a rule is not a valid subject (or `subject queue` pair for subscribe rules).
   */
  static from(p: UserPermissions | undefined): Permissions | undefined {
    if (p === undefined) return undefined;
    const perms = new Permissions(p);
    const restricts =
      perms.pubAllow !== undefined ||
      perms.pubDeny !== undefined ||
      perms.subAllow !== undefined ||
      perms.subDeny !== undefined;
    return restricts ? perms : undefined;
  }

  /**
   * The rules in nats-server's JSON shape (`$SYS.REQ.USER.INFO`): `publish`/`subscribe` with `allow`/`deny`,
   * `responses` with `max` and `ttl` (nanoseconds).
   */
  describe(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const rules = (allow: string[] | undefined, deny: string[] | undefined) => {
      const r: Record<string, string[]> = {};
      if (allow !== undefined && allow.length > 0) r.allow = allow;
      if (deny !== undefined && deny.length > 0) r.deny = deny;
      return Object.keys(r).length > 0 ? r : undefined;
    };
    const joined = (x: SubscribeRules | undefined) =>
      x === undefined ? undefined : [...x.plain, ...x.queued.map((q) => `${q.subject} ${q.queue}`)];
    const pub = rules(this.pubAllow, this.pubDeny);
    const sub = rules(joined(this.subAllow), joined(this.subDeny));
    if (pub) out.publish = pub;
    if (sub) out.subscribe = sub;
    if (this.allowResponses !== undefined) {
      out.responses = { max: this.allowResponses.max, ttl: this.allowResponses.expiresMs * 1e6 };
    }
    return out;
  }

  /** A fresh per-connection response tracker, or undefined when allow_responses is off. */
  createResponsePermissions(): ResponsePermissions | undefined {
    return this.allowResponses === undefined ? undefined : new ResponsePermissions(this.allowResponses);
  }

  /**
   * May a message be published to `subject`? Response grants are separate (ResponsePermissions.tryUse).
   * Rule tokens are matched against the subject's tokens literally, so `foo.>` also admits a (non-pedantic)
   * publish to `foo.*`, as nats-server does.
   */
  canPublish(subject: string): boolean {
    const cached = this.pubCache.get(subject);
    if (cached !== undefined) return cached;
    let allowed = this.pubAllow === undefined || this.pubAllow.some((p) => subjectMatches(p, subject));
    if (allowed && this.pubDeny !== undefined)
      allowed = !this.pubDeny.some((p) => subjectMatches(p, subject));
    remember(this.pubCache, subject, allowed);
    return allowed;
  }

  /**
   * May the client subscribe to `subject` (optionally in `queue`)?
   * Allow: the subscription must lie entirely inside an allow rule (allow `foo.>` admits `foo.*`). If queue
   * rules cover the subject, a queue subscription is decided by them alone; a plain subscription never
   * matches a queue rule.
   * Deny: a subscription matched by a deny rule is refused; one that only overlaps a deny rule is accepted
   * and needs delivery filtering (see needsDeliveryFilter / deniesDelivery).
   */
  canSubscribe(subject: string, queue?: string): boolean {
    if (queue === RESERVED_QUEUE) return false;
    const allow = this.subAllow;
    if (allow !== undefined) {
      let allowed = allow.plain.some((p) => isSubsetMatch(subject, p));
      if (queue !== undefined) {
        const rules = allow.queued.filter((r) => isSubsetMatch(subject, r.subject));
        if (rules.length > 0) allowed = rules.some((r) => queueMatches(queue, r.queue));
      }
      if (!allowed) return false;
    }
    const deny = this.subDeny;
    if (deny === undefined) return true;
    // Literal token matching, as nats-server: a deny `foo.*` also refuses SUB `foo.>`.
    if (deny.plain.some((p) => subjectMatches(p, subject))) return false;
    if (queue !== undefined) {
      return !deny.queued.some((r) => subjectMatches(r.subject, subject) && queueMatches(queue, r.queue));
    }
    return true;
  }

  /**
   * For an accepted subscription: can some message it would receive be denied? If so the server must call
   * deniesDelivery for each message delivered on it. False for most subscriptions.
   */
  needsDeliveryFilter(subject: string, queue?: string): boolean {
    const deny = this.subDeny;
    if (deny === undefined) return false;
    if (deny.plain.some((p) => subjectsCollide(p, subject))) return true;
    return (
      queue !== undefined &&
      deny.queued.some((r) => queueMatches(queue, r.queue) && subjectsCollide(r.subject, subject))
    );
  }

  /** Must a message on the literal `subject` be dropped for a (filtered) subscription in `queue`? */
  deniesDelivery(subject: string, queue?: string): boolean {
    const deny = this.subDeny;
    if (deny === undefined) return false;
    const key = queue === undefined ? subject : `${subject} ${queue}`;
    const cached = this.deliveryCache.get(key);
    if (cached !== undefined) return cached;
    let denied = deny.plain.some((p) => subjectMatches(p, subject));
    if (!denied && queue !== undefined) {
      denied = deny.queued.some((r) => queueMatches(queue, r.queue) && subjectMatches(r.subject, subject));
    }
    remember(this.deliveryCache, key, denied);
    return denied;
  }
}

/** True for the queue group clients may never use, whatever their permissions. */
export function isReservedQueue(queue: string): boolean {
  return queue === RESERVED_QUEUE;
}

/** A queue rule may itself be a pattern (`q.*`); the literal comparison comes first as `*` is a valid name. */
function queueMatches(queue: string, rule: string): boolean {
  if (queue === rule) return true;
  return (rule.includes("*") || rule.includes(">")) && isSubsetMatch(queue, rule);
}

function remember(cache: Map<string, boolean>, key: string, value: boolean): void {
  // Insertion-ordered Map: evicting the first key is a cheap FIFO bound.
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
}

function normalizeResponses(v: UserPermissions["allowResponses"]): ResponseLimits | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return { ...DEFAULT_RESPONSE_LIMITS };
  return { max: Math.max(v.max, 0), expiresMs: Math.max(v.expiresMs, 0) };
}

interface ParsedRule {
  subject: string;
  queue?: string;
}

/** Parses and validates a rule list; empty or absent lists become undefined. */
function nonEmpty(list: string[] | undefined, field: string, queues: boolean): ParsedRule[] | undefined {
  if (list === undefined || list.length === 0) return undefined;
  return list.map((entry) => parseRule(entry, field, queues));
}

/** Validates one permission entry: a subject, or for subscribe rules optionally `subject queue`. */
export function parseRule(entry: string, field: string, queues: boolean): ParsedRule {
  if (typeof entry !== "string") throw new Error(`${field}: expected a subject string`);
  if (isValidSubscribeSubject(entry)) return { subject: entry };
  const parts = entry.trim().split(/\s+/);
  if (queues && parts.length === 2) {
    if (!isValidSubscribeSubject(parts[0]))
      throw new Error(`${field}: subject "${parts[0]}" is not a valid subject`);
    return { subject: parts[0], queue: parts[1] };
  }
  throw new Error(`${field}: subject "${entry}" is not a valid subject`);
}

function splitRules(rules: ParsedRule[] | undefined): SubscribeRules | undefined {
  if (rules === undefined) return undefined;
  const out: SubscribeRules = { plain: [], queued: [] };
  for (const r of rules) {
    if (r.queue === undefined) out.plain.push(r.subject);
    else out.queued.push({ subject: r.subject, queue: r.queue });
  }
  return out;
}

/** Validates every rule of `p`, prefixing errors with `path` (e.g. `authorization.users[2].permissions`). */
export function validateUserPermissions(p: UserPermissions, path: string): void {
  const check = (rules: PermissionRules | undefined, dir: string, queues: boolean) => {
    for (const kind of ["allow", "deny"] as const) {
      const list = rules?.[kind];
      if (list === undefined) continue;
      if (!Array.isArray(list)) throw new Error(`${path}.${dir}.${kind}: expected an array of subjects`);
      list.forEach((e) => {
        parseRule(e, `${path}.${dir}.${kind}`, queues);
      });
    }
  };
  check(p.publish, "publish", false);
  check(p.subscribe, "subscribe", true);
  const r = p.allowResponses;
  if (r !== undefined && typeof r !== "boolean") {
    if (typeof r !== "object" || r === null || !Number.isFinite(r.max) || !Number.isFinite(r.expiresMs)) {
      throw new Error(`${path}.allowResponses: expected a boolean or { max, expiresMs }`);
    }
  }
}
