// Every JetStream API error this server can answer with, in one table: HTTP-like `code`, the stable
// `err_code` clients switch on, and the description (texts match nats-server; `{x}` are template slots).
// Handlers throw `apiError("Name", {x})`; the API router turns it into the `error` member of the response.

export interface ApiErrorBody {
  code: number;
  err_code: number;
  description: string;
}

interface Entry {
  code: number;
  errCode: number;
  description: string;
}

const e = (code: number, errCode: number, description: string): Entry => ({ code, errCode, description });

export const API_ERRORS = {
  BadRequest: e(400, 10003, "bad request"),
  ClusterNotAvailable: e(503, 10008, "JetStream system temporarily unavailable"),
  ClusterRequired: e(503, 10010, "JetStream clustering support required"),
  ConsumerNotFound: e(404, 10014, "consumer not found"),
  InsufficientResources: e(503, 10023, "insufficient resources"),
  InvalidJSON: e(400, 10025, "invalid JSON"),
  MaximumStreamsLimit: e(400, 10027, "maximum number of streams reached"),
  MemoryResourcesExceeded: e(500, 10028, "insufficient memory resources available"),
  MirrorWithSources: e(400, 10031, "stream mirrors can not also contain other sources"),
  MirrorWithSubjects: e(400, 10034, "stream mirrors can not contain subjects"),
  NoMessageFound: e(404, 10037, "no message found"),
  NotEmptyRequest: e(400, 10038, "expected an empty request payload"),
  NotEnabledForAccount: e(503, 10039, "JetStream not enabled for account"),
  StorageResourcesExceeded: e(500, 10047, "insufficient storage resources available"),
  StreamCreate: e(500, 10049, "{err}"),
  StreamGeneralError: e(500, 10051, "{err}"),
  StreamInvalidConfig: e(500, 10052, "{err}"),
  StreamMessageExceedsMaximum: e(400, 10054, "message size exceeds maximum allowed"),
  StreamMirrorNotUpdatable: e(400, 10055, "stream mirror configuration can not be updated"),
  StreamMismatch: e(400, 10056, "stream name in subject does not match request"),
  StreamMsgDeleteFailed: e(500, 10057, "{err}"),
  StreamNameExist: e(400, 10058, "stream name already in use with a different configuration"),
  StreamNotFound: e(404, 10059, "stream not found"),
  StreamNotMatch: e(400, 10060, "expected stream does not match"),
  StreamSubjectOverlap: e(400, 10065, "subjects overlap with an existing stream"),
  StreamWrongLastMsgID: e(400, 10070, "wrong last msg ID: {id}"),
  StreamWrongLastSequence: e(400, 10071, "wrong last sequence: {seq}"),
  StreamReplicasNotSupported: e(500, 10074, "replicas > 1 not supported in non-clustered mode"),
  NotEnabled: e(503, 10076, "JetStream not enabled"),
  StreamStoreFailed: e(503, 10077, "{err}"),
  StreamHeaderExceedsMaximum: e(400, 10097, "header size exceeds maximum allowed of 64k"),
  StreamSealed: e(400, 10109, "invalid operation on sealed stream"),
  StreamPurgeFailed: e(500, 10110, "{err}"),
  StreamRollupFailed: e(500, 10111, "{err}"),
  StreamMaxBytesRequired: e(400, 10113, "account requires a stream config to have max bytes set"),
  StreamInfoMaxSubjects: e(500, 10117, "subject details would exceed maximum allowed"),
  StreamNameContainsPathSeparators: e(400, 10128, "Stream name can not contain path separators"),
  ReplicasCountCannotBeNegative: e(400, 10133, "replicas count cannot be negative"),
  Pedantic: e(400, 10157, "pedantic mode: {err}"),
  StreamWrongLastSequenceConstant: e(400, 10164, "wrong last sequence"),
  MessageTTLInvalid: e(400, 10165, "invalid per-message TTL"),
  MessageTTLDisabled: e(400, 10166, "per-message TTL is disabled"),
  RequiredApiLevel: e(412, 10185, "JetStream minimum api level required"),
  StreamExpectedLastSeqPerSubjectInvalid: e(
    400,
    10193,
    "missing sequence for expected last sequence per subject",
  ),
  // Lattice's own: a request for a feature this release does not implement answers at once instead of
  // leaving the client to time out. Outside the range nats-server uses.
  NotSupported: e(501, 10501, "{feature} is not supported by this server yet"),
} as const;

export type ApiErrorName = keyof typeof API_ERRORS;

/** An API failure on its way to the response; `body` is what goes on the wire. */
export class ApiError extends Error {
  readonly body: ApiErrorBody;
  constructor(
    readonly kind: ApiErrorName,
    vars: Record<string, string | number> = {},
  ) {
    const entry = API_ERRORS[kind];
    const description = entry.description.replace(/\{(\w+)\}/g, (_m, k: string) => String(vars[k] ?? ""));
    super(description);
    this.name = "ApiError";
    this.body = { code: entry.code, err_code: entry.errCode, description };
  }
}

export function apiError(kind: ApiErrorName, vars?: Record<string, string | number>): ApiError {
  return new ApiError(kind, vars);
}

/** Shorthand for the "{err}"-templated kinds. */
export function apiErrorText(kind: ApiErrorName, err: string): ApiError {
  return new ApiError(kind, { err });
}
