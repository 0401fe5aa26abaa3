// Subject transforms of streams (stream `subject_transform`, source/mirror `subject_transforms`,
// republish), on the shared SubjectTransform of src/subjects/mapping.ts. Two local rules sit on top:
// `*` in the destination takes the source's wildcards in order (a filter-only source is checked as
// `src → src`), and only the wildcard function (`$1`, `{{wildcard(1)}}`) is accepted so far.

import { SubjectTransform as Transform } from "../subjects/mapping.js";
import { isValidSubscribeSubject } from "../subjects/validate.js";

const REF = /^\$\d+$|^\{\{.*\}\}$/;

export class SubjectTransform {
  private constructor(private readonly tr: Transform) {}

  /** Build a transform; throws an Error describing what is wrong with it. */
  static create(src: string, dest: string): SubjectTransform {
    const s = src === "" ? ">" : src;
    if (!isValidSubscribeSubject(s)) throw new Error(`invalid source subject "${src}"`);
    if (dest === "" || !isValidSubscribeSubject(dest.replace(/\{\{[^}]*\}\}/g, "x"))) {
      throw new Error(`invalid destination subject "${dest}"`);
    }
    const srcTokens = s.split(".");
    const destTokens = dest.split(".");
    if (destTokens.at(-1) === ">" && srcTokens.at(-1) !== ">") {
      throw new Error("destination '>' needs a '>' in the source");
    }
    // Positional `*`: the n-th `*` of the destination is the source's n-th wildcard.
    const wildcards = srcTokens.filter((t) => t === "*").length;
    let positional = 0;
    const explicit = destTokens.some((t) => REF.test(t));
    const written = destTokens.map((t) => {
      if (t !== "*") return t;
      if (explicit) throw new Error("destination mixes '*' with wildcard references");
      if (++positional > wildcards) throw new Error("destination has more '*' than the source");
      return `$${positional}`;
    });
    const tr = Transform.compile(s, written.join("."));
    for (const f of tr.functions) {
      if (f !== "wildcard") throw new Error(`unsupported mapping function "${f}" in "${dest}"`);
    }
    return new SubjectTransform(tr);
  }

  matches(subject: string): boolean {
    return this.tr.matches(subject);
  }

  /** The transformed subject, or undefined when `subject` does not match the source. */
  apply(subject: string): string | undefined {
    return this.tr.apply(subject);
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
