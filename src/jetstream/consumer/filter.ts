// A consumer's subject filters compiled for the hot path (every stream append is tested against every
// consumer's filters): no filter matches everything, a single literal is one comparison, wildcards are
// matched token by token on pre-split patterns.

export type SubjectFilter = (subject: string) => boolean;

const ALL: SubjectFilter = () => true;

export function compileFilter(filters: readonly string[]): SubjectFilter {
  if (filters.length === 0 || filters.includes(">")) return ALL;
  if (filters.length === 1 && !hasWildcard(filters[0])) {
    const f = filters[0];
    return (s) => s === f;
  }
  const literals = new Set(filters.filter((f) => !hasWildcard(f)));
  const patterns = filters.filter(hasWildcard).map((f) => f.split("."));
  return (s) => {
    if (literals.has(s)) return true;
    if (patterns.length === 0) return false;
    const tokens = s.split(".");
    for (const p of patterns) if (matchTokens(p, tokens)) return true;
    return false;
  };
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
