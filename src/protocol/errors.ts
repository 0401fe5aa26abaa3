// Every `-ERR` text the server sends to clients (core-protocol.md §11). Clients match these by substring or
// lower-cased compare, so the spelling and case are part of the protocol: never inline one elsewhere.

/** Unparseable op, client-sent MSG/HMSG, payload not followed by \r\n. Closes. */
export const ERR_UNKNOWN_PROTOCOL_OPERATION = "Unknown Protocol Operation";
/** Bad or missing credentials, non-CONNECT first op when auth is required, legacy account fields. Closes. */
export const ERR_AUTHORIZATION_VIOLATION = "Authorization Violation";
/** No CONNECT within the auth timeout (the docs' "Authorization Timeout" is wrong). Closes. */
export const ERR_AUTHENTICATION_TIMEOUT = "Authentication Timeout";
/** User JWT expired. Closes. */
export const ERR_USER_AUTHENTICATION_EXPIRED = "User Authentication Expired";
/** Account JWT expired. Closes. */
export const ERR_ACCOUNT_AUTHENTICATION_EXPIRED = "Account Authentication Expired";
/** User JWT revoked. Closes. */
export const ERR_USER_AUTHENTICATION_REVOKED = "User Authentication Revoked";
/** PUB size (HPUB total size) above max_payload. Closes. */
export const ERR_MAXIMUM_PAYLOAD_VIOLATION = "Maximum Payload Violation";
/** Control line arguments longer than max_control_line. Lower-case on purpose. Closes. */
export const ERR_MAXIMUM_CONTROL_LINE_EXCEEDED = "maximum control line exceeded";
/** CONNECT.protocol > 1. Closes. */
export const ERR_INVALID_CLIENT_PROTOCOL = "invalid client protocol";
/** CONNECT with no_responders but without headers. Closes. */
export const ERR_NO_RESPONDERS_REQUIRES_HEADERS = "no responders requires headers support";
/** Server max_connections reached. Closes. */
export const ERR_MAXIMUM_CONNECTIONS_EXCEEDED = "maximum connections exceeded";
/** Account (JWT) connection limit reached. Closes. */
export const ERR_MAXIMUM_ACCOUNT_ACTIVE_CONNECTIONS_EXCEEDED = "maximum account active connections exceeded";
/** Plain-text client on a TLS-required server. Closes. */
export const ERR_SECURE_CONNECTION_TLS_REQUIRED = "Secure Connection - TLS Required";
/** TLS connection rate limit hit. Closes. */
export const ERR_CONNECTION_THROTTLING = "Connection throttling is active. Please try again later.";
/** Too many unanswered server PINGs. Closes. */
export const ERR_STALE_CONNECTION = "Stale Connection";
/** Internal account registration failure. Closes. */
export const ERR_FAILED_ACCOUNT_REGISTRATION = "Failed Account Registration";
/** SUB with a malformed subject. Connection stays open. */
export const ERR_INVALID_SUBJECT = "Invalid Subject";
/** Pedantic client published to an invalid subject; the message is still processed. Stays open. */
export const ERR_INVALID_PUBLISH_SUBJECT = "Invalid Publish Subject";
/** max_subscriptions reached. Connection stays open. */
export const ERR_MAXIMUM_SUBSCRIPTIONS_EXCEEDED = "maximum subscriptions exceeded";

/** The fixed texts after which the server closes the connection (permission errors never close). */
export const CLOSING_ERRORS: ReadonlySet<string> = new Set<string>([
  ERR_UNKNOWN_PROTOCOL_OPERATION,
  ERR_AUTHORIZATION_VIOLATION,
  ERR_AUTHENTICATION_TIMEOUT,
  ERR_USER_AUTHENTICATION_EXPIRED,
  ERR_ACCOUNT_AUTHENTICATION_EXPIRED,
  ERR_USER_AUTHENTICATION_REVOKED,
  ERR_MAXIMUM_PAYLOAD_VIOLATION,
  ERR_MAXIMUM_CONTROL_LINE_EXCEEDED,
  ERR_INVALID_CLIENT_PROTOCOL,
  ERR_NO_RESPONDERS_REQUIRES_HEADERS,
  ERR_MAXIMUM_CONNECTIONS_EXCEEDED,
  ERR_MAXIMUM_ACCOUNT_ACTIVE_CONNECTIONS_EXCEEDED,
  ERR_SECURE_CONNECTION_TLS_REQUIRED,
  ERR_CONNECTION_THROTTLING,
  ERR_STALE_CONNECTION,
  ERR_FAILED_ACCOUNT_REGISTRATION,
]);

/** `Permissions Violation for Publish to "<subject>"` (message dropped, connection kept). */
export function permissionsPublish(subject: string): string {
  return `Permissions Violation for Publish to ${goQuote(subject)}`;
}

/** `Permissions Violation for Publish with Reply of "<reply>"` (message dropped, connection kept). */
export function permissionsPublishReply(reply: string): string {
  return `Permissions Violation for Publish with Reply of ${goQuote(reply)}`;
}

/** `Permissions Violation for Subscription to "<subject>"`, plus ` using queue "<queue>"` for queue subs. */
export function permissionsSubscribe(subject: string, queue?: string): string {
  const base = `Permissions Violation for Subscription to ${goQuote(subject)}`;
  return queue === undefined ? base : `${base} using queue ${goQuote(queue)}`;
}

/** `Permissions Violation for Subscription to "<subject>", too many tokens` (max_sub_tokens, §6). */
export function permissionsSubscribeTooManyTokens(subject: string): string {
  return `Permissions Violation for Subscription to ${goQuote(subject)}, too many tokens`;
}

/** The full wire frame `-ERR '<text>'\r\n`. */
export function errLine(text: string): string {
  return `-ERR '${text}'\r\n`;
}

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space only.
const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/**
 * Quotes like Go's `%q` / strconv.Quote, which the reference uses for subjects in permission errors.
 * Subjects are nearly always printable ASCII, so that case returns without per-character work.
 */
export function goQuote(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return `"${s}"`;
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (cp) {
      case 0x22:
        out += '\\"';
        continue;
      case 0x5c:
        out += "\\\\";
        continue;
      case 0x07:
        out += "\\a";
        continue;
      case 0x08:
        out += "\\b";
        continue;
      case 0x0c:
        out += "\\f";
        continue;
      case 0x0a:
        out += "\\n";
        continue;
      case 0x0d:
        out += "\\r";
        continue;
      case 0x09:
        out += "\\t";
        continue;
      case 0x0b:
        out += "\\v";
        continue;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate cannot come from UTF-8 input; Go would have seen U+FFFD bytes, which print as is.
      out += "\ufffd";
    } else if (GO_PRINTABLE.test(ch)) {
      out += ch;
    } else if (cp < 0x80) {
      out += `\\x${cp.toString(16).padStart(2, "0")}`;
    } else if (cp < 0x10000) {
      out += `\\u${cp.toString(16).padStart(4, "0")}`;
    } else {
      out += `\\U${cp.toString(16).padStart(8, "0")}`;
    }
  }
  return `${out}"`;
}
