// Subject transforms (stream `subject_transform`, source/mirror `subject_transforms`, republish): a source
// pattern with wildcards and a destination that reuses the matched tokens, either positionally (`*` and `>`
// in the destination take the source's in order) or by reference (`$1`, `{{wildcard(1)}}`).

import { subjectMatches } from "../subjects/pattern.js";
import { isValidSubscribeSubject } from "../subjects/validate.js";

type DestToken = { literal: string } | { wildcard: number } | { rest: true };

const REF = /^\$(\d+)$/;
const FN = /^\{\{\s*wildcard\s*\(\s*(\d+)\s*\)\s*\}\}$/i;

export class SubjectTransform {
  private readonly srcTokens: string[];
  /** Token positions of the source's `*` wildcards, in order. */
  private readonly wildcardAt: number[] = [];
  private readonly dest: DestToken[];

  private constructor(
    readonly src: string,
    readonly destination: string,
  ) {
    this.srcTokens = src.split(".");
    this.srcTokens.forEach((t, i) => {
      if (t === "*") this.wildcardAt.push(i);
    });
    const hasRest = this.srcTokens.at(-1) === ">";
    let positional = 0;
    const explicit = destination.split(".").some((t) => REF.test(t) || FN.test(t));
    this.dest = destination.split(".").map((t): DestToken => {
      const m = REF.exec(t) ?? FN.exec(t);
      if (m !== null) {
        const n = Number(m[1]);
        if (n < 1 || n > this.wildcardAt.length) throw new Error(`wildcard index ${n} out of range`);
        return { wildcard: n };
      }
      if (t === "*") {
        if (explicit) throw new Error("destination mixes '*' with wildcard references");
        positional++;
        if (positional > this.wildcardAt.length) throw new Error("destination has more '*' than the source");
        return { wildcard: positional };
      }
      if (t === ">") {
        if (!hasRest) throw new Error("destination '>' needs a '>' in the source");
        return { rest: true };
      }
      if (t.includes("{{") || t.includes("}}")) throw new Error(`unsupported mapping function in "${t}"`);
      return { literal: t };
    });
  }

  /** Build a transform; throws an Error describing what is wrong with it. */
  static create(src: string, dest: string): SubjectTransform {
    const s = src === "" ? ">" : src;
    if (!isValidSubscribeSubject(s)) throw new Error(`invalid source subject "${src}"`);
    if (dest === "" || !isValidSubscribeSubject(dest.replace(/\{\{[^}]*\}\}/g, "x"))) {
      throw new Error(`invalid destination subject "${dest}"`);
    }
    return new SubjectTransform(s, dest);
  }

  matches(subject: string): boolean {
    return subjectMatches(this.src, subject);
  }

  /** The transformed subject, or undefined when `subject` does not match the source. */
  apply(subject: string): string | undefined {
    if (!this.matches(subject)) return undefined;
    const tokens = subject.split(".");
    const out: string[] = [];
    for (const d of this.dest) {
      if ("literal" in d) out.push(d.literal);
      else if ("wildcard" in d) out.push(tokens[this.wildcardAt[d.wildcard - 1]]);
      else out.push(tokens.slice(this.srcTokens.length - 1).join("."));
    }
    return out.join(".");
  }
}

/** Validate without keeping the transform: the error text, or undefined when fine. */
export function transformError(src: string, dest: string): string | undefined {
  try {
    SubjectTransform.create(src, dest);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
