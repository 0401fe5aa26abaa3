// Token-wise comparisons between subjects and wildcard patterns, outside the subject index.
// Used where a handful of patterns is checked (permissions, stream subjects, filters).

/** Does the literal `subject` match `pattern` (which may contain '*' and '>')? */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === ">") return s.length > i;
    if (i >= s.length) return false;
    if (token !== "*" && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/**
 * Is every subject matched by `sub` (itself possibly a wildcard subject) also matched by `pattern`?
 * E.g. `foo.*` is a subset of `foo.>` and of `*.*`, but not of `foo.bar`.
 */
export function isSubsetMatch(sub: string, pattern: string): boolean {
  if (sub === pattern) return true;
  const s = sub.split(".");
  const p = pattern.split(".");
  for (let i = 0; i < p.length; i++) {
    const pt = p[i];
    if (pt === ">") return s.length > i;
    if (i >= s.length) return false;
    const st = s[i];
    if (st === ">") return false;
    if (pt === "*") continue;
    if (st === "*" || st !== pt) return false;
  }
  return p.length === s.length;
}

/** Can some literal subject be matched by both patterns? */
export function subjectsCollide(a: string, b: string): boolean {
  if (a === b) return true;
  const x = a.split(".");
  const y = b.split(".");
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const xt = x[i];
    const yt = y[i];
    if (xt === ">" || yt === ">") return true;
    if (xt !== "*" && yt !== "*" && xt !== yt) return false;
  }
  return x.length === y.length;
}
