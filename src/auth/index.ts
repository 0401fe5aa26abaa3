// Public surface of client authentication and permissions.
export {
  Authenticator,
  CONNECTION_TYPES,
  DEFAULT_AUTH_TIMEOUT_MS,
  DEFAULT_CONNECTION_TYPE,
  GLOBAL_ACCOUNT,
  isValidUserNkey,
  validateAuthOptions,
} from "./authenticator.js";
export { authOptionsFromConfig } from "./config.js";
export { parseGoDuration } from "./duration.js";
export { isReservedQueue, Permissions, RESERVED_QUEUE } from "./permissions.js";
export { DEFAULT_RESPONSE_LIMITS, ResponsePermissions } from "./response-permissions.js";
export type {
  AuthOptions,
  AuthResult,
  ConnectCredentials,
  PermissionRules,
  ResponseLimits,
  UserEntry,
  UserPermissions,
} from "./types.js";
