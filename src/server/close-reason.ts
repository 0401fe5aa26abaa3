// Why a connection ended, as nats-server names it in /connz?state=closed.
export const CloseReason = {
  ClientClosed: "Client Closed",
  AuthenticationTimeout: "Authentication Timeout",
  AuthenticationViolation: "Authentication Failure",
  TLSHandshakeError: "TLS Handshake Failure",
  SlowConsumerPendingBytes: "Slow Consumer (Pending Bytes)",
  SlowConsumerWriteDeadline: "Slow Consumer (Write Deadline)",
  WriteError: "Write Error",
  ReadError: "Read Error",
  ParseError: "Parse Error",
  StaleConnection: "Stale Connection",
  ProtocolViolation: "Protocol Violation",
  BadClientProtocolVersion: "Bad Client Protocol Version",
  WrongPort: "Incorrect Port",
  MaxConnectionsExceeded: "Maximum Connections Exceeded",
  MaxAccountConnectionsExceeded: "Maximum Account Connections Exceeded",
  MaxPayloadExceeded: "Maximum Message Payload Exceeded",
  MaxControlLineExceeded: "Maximum Control Line Exceeded",
  MaxSubscriptionsExceeded: "Maximum Subscriptions Exceeded",
  ServerShutdown: "Server Shutdown",
  LameDuckMode: "Lame Duck Mode",
  AuthenticationExpired: "Authentication Expired",
  Revocation: "Credentials Revoked",
  MissingAccount: "Missing Account",
  Kicked: "Kicked",
} as const;

export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];
