/**
 * Error type for everything that can go wrong while reading a configuration: syntax errors, unknown
 * variables, missing include files and invalid option values (durations, sizes).
 *
 * `line` and `column` are 1-based; both are 0 when the problem has no position (for example an
 * unreadable top-level file, or a value checked by units.ts without a position).
 */

/** Where a key or error sits in a configuration source. */
export interface SourcePosition {
  /** File name as given by the caller or resolved for an include; undefined for in-memory text. */
  file: string | undefined;
  /** 1-based line. */
  line: number;
  /** 1-based column, counted in Unicode code points. */
  column: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly file: string | undefined;
  readonly line: number;
  readonly column: number;
  /** The description without the location prefix. */
  readonly reason: string;

  constructor(reason: string, where: Partial<SourcePosition> = {}) {
    const file = where.file;
    const line = where.line ?? 0;
    const column = where.column ?? 0;
    super(formatLocation(file, line, column) + reason);
    this.file = file;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}

function formatLocation(file: string | undefined, line: number, column: number): string {
  if (line > 0) return `${file ?? "config"}:${line}:${column}: `;
  if (file !== undefined) return `${file}: `;
  return "";
}
