import type { PermissionRules, UserPermissions } from "../auth/types.js";
import { subjectMatches } from "../subjects/pattern.js";
import { isLiteralSubject } from "../subjects/validate.js";

/** One direction's rules; queue-qualified entries (`subject queue`) play no part on a leaf link. */
interface Rules {
  readonly allow: readonly string[] | undefined;
  readonly deny: readonly string[] | undefined;
}

function rules(r: PermissionRules | undefined): Rules {
  const plain = (list: string[] | undefined) => {
    const subjects = (list ?? []).filter((s) => !s.trim().includes(" "));
    return subjects.length > 0 ? subjects : undefined;
  };
  // An empty allow list restricts nothing, as in nats-server.
  return { allow: plain(r?.allow), deny: plain(r?.deny) };
}

/** A message on the literal `subject` passes: an allow rule matches it and no deny rule does. */
function admits(r: Rules, subject: string): boolean {
  if (r.allow !== undefined && !r.allow.some((p) => subjectMatches(p, subject))) return false;
  return r.deny === undefined || !r.deny.some((p) => subjectMatches(p, subject));
}

/**
 * Interest in `subject` (maybe a wildcard) may cross: an allow rule matches it or, for a wildcard, lies
 * inside it (a hub client on `>` is announced to a leaf that may publish `foo`; the messages are filtered
 * one by one); a deny rule matching it stops it.
 */
function covers(r: Rules, subject: string): boolean {
  if (r.allow !== undefined) {
    const inside = r.allow.some((p) => subjectMatches(p, subject));
    const wide = !isLiteralSubject(subject) && r.allow.some((p) => subjectMatches(subject, p));
    if (!inside && !wide) return false;
  }
  return r.deny === undefined || !r.deny.some((p) => subjectMatches(p, subject));
}

/** Loop detection and gateway reply subjects cross whatever the permissions say, as in nats-server. */
export function exemptFromPermissions(subject: string): boolean {
  return subject.startsWith("$LDS.") || subject.startsWith("_GR_.") || subject.startsWith("$GR.");
}

/**
 * A leaf user's permissions as a leaf link applies them. The rules speak for the leaf: `publish` is what it
 * may send into the hub's account, `subscribe` what it may receive from it. The hub applies them to its end
 * of the link (nats-server swaps the two internally), and sends them to the spoke in its second INFO
 * (`export` = publish, `import` = subscribe) for the spoke to apply as well:
 *
 * - interest the hub announces to the leaf: only what the leaf may publish to (`publishCovers`);
 * - interest the spoke announces to the hub: only what it may receive (`subscribeCovers`);
 * - messages to the leaf: only those it may receive (`mayReceive`); from the leaf: `mayPublish`.
 */
export class LeafPermissions {
  private constructor(
    private readonly publish: Rules,
    private readonly subscribe: Rules,
  ) {}

  /** undefined when nothing is restricted. */
  static from(p: UserPermissions | undefined): LeafPermissions | undefined {
    if (p === undefined) return undefined;
    const perms = new LeafPermissions(rules(p.publish), rules(p.subscribe));
    return perms.restricts() ? perms : undefined;
  }

  /** The spoke's view, from the hub's INFO: `export` is what it may publish, `import` what it may receive. */
  static fromInfo(exp: PermissionRules | undefined, imp: PermissionRules | undefined) {
    return LeafPermissions.from({ publish: exp, subscribe: imp });
  }

  mayPublish(subject: string): boolean {
    return exemptFromPermissions(subject) || admits(this.publish, subject);
  }

  mayReceive(subject: string): boolean {
    return exemptFromPermissions(subject) || admits(this.subscribe, subject);
  }

  publishCovers(subject: string): boolean {
    return exemptFromPermissions(subject) || covers(this.publish, subject);
  }

  subscribeCovers(subject: string): boolean {
    return exemptFromPermissions(subject) || covers(this.subscribe, subject);
  }

  /** The rules as the hub's INFO carries them. */
  toInfo(): { export?: PermissionRules; import?: PermissionRules } {
    const json = (r: Rules): PermissionRules | undefined => {
      if (r.allow === undefined && r.deny === undefined) return undefined;
      const out: PermissionRules = {};
      if (r.allow !== undefined) out.allow = [...r.allow];
      if (r.deny !== undefined) out.deny = [...r.deny];
      return out;
    };
    return { export: json(this.publish), import: json(this.subscribe) };
  }

  private restricts(): boolean {
    const p = this.publish;
    const s = this.subscribe;
    return p.allow !== undefined || p.deny !== undefined || s.allow !== undefined || s.deny !== undefined;
  }
}
