// Where operator mode finds account JWTs: in memory (`resolver: MEMORY`, filled by resolver_preload and
// claim updates), or in a directory of `<account key>.jwt` files (`resolver { type: full, dir }`).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isPublicKey } from "../auth/jwt-claims.js";
import type { ResolverOptions } from "./types.js";

export interface AccountResolver {
  /** `MEMORY`, `full` or `cache`, as /varz and the claim-update replies name them. */
  readonly kind: string;
  fetch(key: string): string | undefined;
  store(key: string, jwt: string): void;
  /** Deletes a stored JWT (full resolver with allow_delete); false when not allowed. */
  remove(key: string): boolean;
  keys(): string[];
}

export class MemoryResolver implements AccountResolver {
  readonly kind = "MEMORY";
  private readonly jwts = new Map<string, string>();

  constructor(preload: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(preload)) this.jwts.set(k, v);
  }

  fetch(key: string): string | undefined {
    return this.jwts.get(key);
  }

  store(key: string, jwt: string): void {
    this.jwts.set(key, jwt);
  }

  remove(_key: string): boolean {
    return false;
  }

  keys(): string[] {
    return [...this.jwts.keys()];
  }
}

/** JWTs as files `<dir>/<key>.jwt`, written atomically (temp file, then rename). */
export class DirResolver implements AccountResolver {
  private readonly cache = new Map<string, string>();

  constructor(
    readonly kind: "full" | "cache",
    private readonly dir: string,
    private readonly allowDelete: boolean,
    private readonly limit: number,
    preload: Record<string, string> = {},
  ) {
    mkdirSync(dir, { recursive: true });
    for (const [k, v] of Object.entries(preload)) if (this.fetch(k) === undefined) this.store(k, v);
  }

  private path(key: string): string | undefined {
    // Keys are checked so a request can never name a path outside the directory.
    return isPublicKey(key, "A") ? join(this.dir, `${key}.jwt`) : undefined;
  }

  fetch(key: string): string | undefined {
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const p = this.path(key);
    if (p === undefined) return undefined;
    try {
      const jwt = readFileSync(p, "utf8").trim();
      this.remember(key, jwt);
      return jwt;
    } catch {
      return undefined;
    }
  }

  store(key: string, jwt: string): void {
    const p = this.path(key);
    if (p === undefined) throw new Error(`not an account key: ${key}`);
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, jwt);
    renameSync(tmp, p);
    this.remember(key, jwt);
  }

  remove(key: string): boolean {
    if (!this.allowDelete) return false;
    const p = this.path(key);
    if (p === undefined) return false;
    rmSync(p, { force: true });
    this.cache.delete(key);
    return true;
  }

  keys(): string[] {
    try {
      return readdirSync(this.dir)
        .filter((f) => f.endsWith(".jwt"))
        .map((f) => f.slice(0, -4))
        .filter((k) => isPublicKey(k, "A"));
    } catch {
      return [];
    }
  }

  private remember(key: string, jwt: string): void {
    this.cache.delete(key);
    this.cache.set(key, jwt);
    const max = this.limit > 0 ? this.limit : 1000;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as string);
  }
}

export function createResolver(o: ResolverOptions, preload: Record<string, string>): AccountResolver {
  if (o.type === "memory") return new MemoryResolver(preload);
  return new DirResolver(o.type, o.dir, o.allowDelete, o.limit, preload);
}
