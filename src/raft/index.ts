// Raft consensus for replicated JetStream: a pure state machine (raft.ts) a driver feeds with messages
// and ticks, collecting Ready batches to persist, send and apply; plus the checksummed encodings the
// driver stores and sends.

export {
  CorruptRecordError,
  decodeConfEntry,
  decodeEntry,
  decodeEntryRecords,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  encodeConfEntry,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  readFrame,
} from "./codec.js";
export {
  applyConfChange,
  confChangeError,
  isLearner,
  isMember,
  isVoter,
  makeConfig,
  members,
  quorumIndex,
  quorumSize,
} from "./config.js";
export { crc32c } from "./crc32c.js";
export { RaftLog } from "./log.js";
export { Progress, type ProgressState } from "./progress.js";
export { type ProposeResult, Raft, type RaftOptions, type RaftStatus } from "./raft.js";
export { hardStateEqual, type Ready } from "./ready.js";
export * from "./types.js";
