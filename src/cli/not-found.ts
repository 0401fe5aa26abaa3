// The server's "stream not found" and "consumer not found" do not say which: the command line does. A stream
// or consumer command takes the stream as its first argument and the consumer as its second.

import { JetStreamApiError } from "@nats-io/jetstream";
import type { Command } from "commander";
import { CliError } from "./errors.js";

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

/** `err`, or for a missing stream or consumer of a stream/consumer command, the same error naming it. */
export function nameWhatIsMissing(err: unknown, cmd: Command): unknown {
  if (!(err instanceof JetStreamApiError)) return err;
  const group = commandGroup(cmd);
  if (group !== "stream" && group !== "consumer") return err;
  const [stream, consumer] = cmd.args;
  const api = err.apiError();
  const code = `(JetStream error ${api.err_code}, status ${api.code})`;
  if (api.err_code === STREAM_NOT_FOUND && stream !== undefined) {
    return new CliError(`stream "${stream}" not found ${code}`);
  }
  if (api.err_code === CONSUMER_NOT_FOUND && group === "consumer" && consumer !== undefined) {
    return new CliError(`consumer "${consumer}" not found on stream "${stream}" ${code}`);
  }
  return err;
}

/** The top-level command a subcommand belongs to (`stream` for `lattice stream info`). */
function commandGroup(cmd: Command): string {
  let c = cmd;
  while (c.parent?.parent) c = c.parent;
  return c.name();
}
