// Errors for the `lattice` command line: one readable line on stderr, the server's JetStream error code when
// there is one, and an exit code that means something. A stack trace only with LATTICE_DEBUG=1.

import { JetStreamApiError, JetStreamError } from "@nats-io/jetstream";
import {
  AuthorizationError,
  ClosedConnectionError,
  ConnectionError,
  InvalidArgumentError,
  InvalidOperationError,
  InvalidSubjectError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  UserAuthenticationExpiredError,
} from "@nats-io/transport-node";

/** Exit codes of every `lattice` command (`server check` uses the monitoring plugin convention instead). */
export const Exit = {
  /** Done. */
  OK: 0,
  /** The operation failed: the server refused it, or what it names does not exist. */
  FAILED: 1,
  /** The command line is wrong: unknown flag, bad value, missing argument. */
  USAGE: 2,
  /** No connection: server unreachable, authentication failed. */
  CONNECT: 3,
  /** The server did not answer in time, or nothing answered a request. */
  TIMEOUT: 4,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  the operation failed (the server refused it, or what it names does not exist)
  2  usage error (unknown flag, bad value, missing argument)
  3  could not connect or authenticate
  4  timed out, or no responders
  (server check uses 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)`;

/** JetStream API error codes the commands recognise. */
export const STREAM_NOT_FOUND = 10059;

/** An error meant for the user: printed as is, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = Exit.FAILED,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, Exit.USAGE);
}

/** What a JetStream API subject looks like, to explain "no responders" as "JetStream is not enabled". */
const JS_API = /^\$JS\.(?:[^.]+\.)?API\./;

/** The one line and exit code for any error a command can raise. */
export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof JetStreamApiError) {
    const api = err.apiError();
    return {
      message: `${api.description} (JetStream error ${api.err_code}, status ${api.code})`,
      exitCode: Exit.FAILED,
    };
  }
  if (err instanceof JetStreamError && typeof (err as { code?: unknown }).code === "number") {
    // A status from a pull or a direct get (408 request timeout, 409 consumer deleted ...).
    return {
      message: `${err.message} (status ${(err as unknown as { code: number }).code})`,
      exitCode: Exit.FAILED,
    };
  }
  if (err instanceof PermissionViolationError) {
    const what = err.operation === "publish" ? "publish to" : "subscribe to";
    return {
      message: `permissions violation: not allowed to ${what} "${err.subject}"${err.queue ? ` (queue "${err.queue}")` : ""}`,
      exitCode: Exit.FAILED,
    };
  }
  if (err instanceof AuthorizationError || err instanceof UserAuthenticationExpiredError) {
    return { message: `authorization failed: ${err.message}`, exitCode: Exit.CONNECT };
  }
  if (err instanceof NoRespondersError) {
    return noResponders(err.subject);
  }
  if (err instanceof RequestError) {
    const cause = err.cause;
    if (cause instanceof NoRespondersError) return noResponders(cause.subject);
    if (err.isNoResponders()) return { message: err.message, exitCode: Exit.TIMEOUT };
    if (cause instanceof TimeoutError) return timeout();
    if (cause instanceof PermissionViolationError) return describeError(cause);
    return { message: err.message, exitCode: Exit.FAILED };
  }
  if (err instanceof TimeoutError) return timeout();
  if (err instanceof ConnectionError || err instanceof ClosedConnectionError) {
    return { message: err.message, exitCode: Exit.CONNECT };
  }
  if (err instanceof InvalidArgumentError || err instanceof InvalidSubjectError) {
    return { message: err.message, exitCode: Exit.USAGE };
  }
  if (err instanceof InvalidOperationError || err instanceof JetStreamError) {
    return { message: err.message, exitCode: Exit.FAILED };
  }
  if (err instanceof SyntaxError) return { message: err.message, exitCode: Exit.USAGE };
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string" && (err as NodeJS.ErrnoException).syscall !== undefined) {
    // File system errors: the message already names the file ("ENOENT: no such file ... 'x'").
    return { message: (err as Error).message, exitCode: Exit.FAILED };
  }
  if (err instanceof Error) {
    const name = err.constructor?.name ?? "";
    if (name === "InvalidNameError") return { message: err.message, exitCode: Exit.USAGE };
    return { message: err.message || String(err), exitCode: Exit.FAILED };
  }
  return { message: String(err), exitCode: Exit.FAILED };
}

function noResponders(subject: string): { message: string; exitCode: number } {
  if (JS_API.test(subject)) {
    return {
      message: `JetStream is not available: nothing answered on ${subject} (is JetStream enabled on the server and for this account?)`,
      exitCode: Exit.FAILED,
    };
  }
  return { message: `no responders available for request on "${subject}"`, exitCode: Exit.TIMEOUT };
}

function timeout(): { message: string; exitCode: number } {
  return {
    message: "timed out waiting for the server (see --timeout)",
    exitCode: Exit.TIMEOUT,
  };
}

/** Print an error as one line and set the exit code; with LATTICE_DEBUG=1 also the stack. */
export function reportError(err: unknown): number {
  const { message, exitCode } = describeError(err);
  process.stderr.write(`lattice: error: ${message}\n`);
  if (process.env.LATTICE_DEBUG === "1" && err instanceof Error && err.stack) {
    process.stderr.write(`${err.stack}\n`);
  }
  return exitCode;
}
