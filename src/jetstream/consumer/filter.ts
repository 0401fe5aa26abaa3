// A consumer's subject filters compiled for the hot path (every stream append is tested against every
// consumer's filters): no filter matches everything, a single literal is one comparison, wildcards are
// matched token by token on pre-split patterns, and `a.b.>` by a prefix test.

export type SubjectFilter = (subject: string) => boolean;

const ALL: SubjectFilter = () => true;

export function compileFilter(filters: readonly string[]): SubjectFilter {
  if (filters.length === 0 || filters.includes(">")) return ALL;
  if (filters.length === 1 && !hasWildcard(filters[0])) {
    const f = filters[0];
    return (s) => s === f;
  }
  const literals = new Set(filters.filter((f) => !hasWildcard(f)));
  const wild = filters.filter(hasWildcard);
  // `a.b.>` (the usual stream / KV bucket filter) is a prefix test: no splitting of the subject.
  const prefixes = wild.filter(isPrefixPattern).map((f) => f.slice(0, -1));
  const patterns = wild.filter((f) => !isPrefixPattern(f)).map((f) => f.split("."));
  if (literals.size === 0 && patterns.length === 0 && prefixes.length === 1) {
    const prefix = prefixes[0];
    return (s) => s.startsWith(prefix);
  }
  return (s) => {
    if (literals.has(s)) return true;
    for (const p of prefixes) if (s.startsWith(p)) return true;
    if (patterns.length === 0) return false;
    const tokens = s.split(".");
    for (const p of patterns) if (matchTokens(p, tokens)) return true;
    return false;
  };
}

/** `a.b.>` with no other wildcard: matches exactly the subjects starting with `a.b.` (and more after). */
function isPrefixPattern(f: string): boolean {
  if (!f.endsWith(".>")) return false;
  return !f
    .slice(0, -2)
    .split(".")
    .some((t) => t === "*" || t === ">");
}

function hasWildcard(f: string): boolean {
  return f.split(".").some((t) => t === "*" || t === ">");
}

function matchTokens(p: readonly string[], s: readonly string[]): boolean {
  for (let i = 0; i < p.length; i++) {
    const t = p[i];
    if (t === ">") return s.length > i;
    if (i >= s.length) return false;
    if (t !== "*" && t !== s[i]) return false;
  }
  return p.length === s.length;
}
