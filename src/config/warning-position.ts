// Where a configuration warning points: warnings name the option (`unknown field "websocket.foo"`,
// `authorization.timeout: ...`), and the parsed tree remembers where each key was written, so the
// warning can carry `file:line:column` as nats-server's do.

import { formatLocation, type SourcePosition } from "./errors.js";
import { type ConfigMap, isConfigMap, keyPosition } from "./tree.js";

/** `warning` prefixed with the position of the option it names, when the configuration has that option. */
export function locateWarning(conf: ConfigMap, warning: string): string {
  const field = fieldOfWarning(warning);
  const pos = field === undefined ? undefined : positionOf(conf, field);
  return pos === undefined ? warning : `${formatLocation(pos.file, pos.line, pos.column)}${warning}`;
}

/** The dotted option name a warning is about, in the shapes the config decoders write. */
export function fieldOfWarning(warning: string): string | undefined {
  const quoted = /field "([^"]+)"/.exec(warning) ?? /^"([^"]+)"/.exec(warning);
  if (quoted !== null) return quoted[1];
  return /^([\w$.[\]-]+)(?::| is )/.exec(warning)?.[1];
}

/** Where `field` (`a.b[2].c`, keys matched without case) was written in `conf`. */
export function positionOf(conf: ConfigMap, field: string): SourcePosition | undefined {
  let node: unknown = conf;
  let found: SourcePosition | undefined;
  for (const segment of field.split(".")) {
    const [, name, indexes] = /^([^[]*)((?:\[\d+\])*)$/.exec(segment) ?? [];
    if (name === undefined || !isConfigMap(node)) return undefined;
    const map: ConfigMap = node;
    const key = Object.keys(map).find((k) => k.toLowerCase() === name.toLowerCase());
    if (key === undefined) return undefined;
    found = keyPosition(map, key);
    node = map[key];
    for (const [, i] of indexes.matchAll(/\[(\d+)\]/g))
      node = Array.isArray(node) ? node[Number(i)] : undefined;
  }
  return found;
}
