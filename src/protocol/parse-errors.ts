// The ways a client byte stream can be rejected, each with what the reference server puts on the wire.
// The connection is closed after every one of them; `errText` says whether an -ERR precedes the close.

import {
  ERR_MAXIMUM_CONTROL_LINE_EXCEEDED,
  ERR_MAXIMUM_PAYLOAD_VIOLATION,
  ERR_UNKNOWN_PROTOCOL_OPERATION,
} from "./errors.js";

/**
 * - `unknown_operation`: unknown op name (incl. client-sent MSG/HMSG), or a payload not followed by `\r\n`.
 * - `max_control_line`: the arguments of a control line exceed maxControlLine.
 * - `max_payload`: PUB size / HPUB total size above maxPayload.
 * - `bad_arguments`: wrong argument count, bad size, header size above total size (closed without -ERR).
 * - `client_error`: the client sent `-ERR ...`; nats-server logs it and closes without replying
 *   (close reason "Parse Error" rather than "Protocol Violation").
 */
export type ParseErrorKind =
  | "unknown_operation"
  | "max_control_line"
  | "max_payload"
  | "bad_arguments"
  | "client_error";

export interface ParseError {
  kind: ParseErrorKind;
  /** The -ERR text to send before closing, or undefined when nats-server closes silently. */
  errText: string | undefined;
  /** Human-readable detail for the server log (not for the wire). */
  detail: string;
}

export function unknownOperation(detail: string): ParseError {
  return { kind: "unknown_operation", errText: ERR_UNKNOWN_PROTOCOL_OPERATION, detail };
}

export function maxControlLine(detail: string): ParseError {
  return { kind: "max_control_line", errText: ERR_MAXIMUM_CONTROL_LINE_EXCEEDED, detail };
}

export function maxPayload(detail: string): ParseError {
  return { kind: "max_payload", errText: ERR_MAXIMUM_PAYLOAD_VIOLATION, detail };
}

export function badArguments(detail: string): ParseError {
  return { kind: "bad_arguments", errText: undefined, detail };
}

export function clientError(detail: string): ParseError {
  return { kind: "client_error", errText: undefined, detail };
}
