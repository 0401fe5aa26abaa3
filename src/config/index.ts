/**
 * Configuration file support: the NATS conf grammar (parser.ts) and option-value units (units.ts).
 * See parser.ts for the language and tree.ts for the result shape and its hidden metadata.
 */
export { ConfigError, type SourcePosition } from "./errors.js";
export { type ParseOptions, parseConfig, parseConfigFile } from "./parser.js";
export {
  type ConfigMap,
  type ConfigValue,
  isConfigMap,
  isUsedAsVariable,
  keyPosition,
  keysUsedAsVariables,
} from "./tree.js";
export {
  durationFromConfig,
  formatGoDuration,
  parseDuration,
  parseGoDuration,
  parseStorageSize,
} from "./units.js";
