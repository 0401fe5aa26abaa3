// Every subscription owner has a kind: the router's rules (who may forward to whom, which queue members
// are preferred, what crosses a server-to-server link) depend on it, never on classes or duck typing.

export type ReceiverKind =
  /** A client connection (TCP, TLS or WebSocket). */
  | "client"
  /** Another server of this cluster, over a route. */
  | "route"
  /** A server of another cluster, over a gateway. */
  | "gateway"
  /** A leaf-node link (either role). */
  | "leaf"
  /** In-process system services: monitoring over NATS, events, the JetStream API. */
  | "system"
  /** JetStream itself: stream capture and consumers. */
  | "jetstream"
  /** An account import forwarding into another account. */
  | "account";

/** Kinds whose subscriptions stand for interest on another server. */
export function isLinkKind(kind: ReceiverKind): boolean {
  return kind === "route" || kind === "gateway" || kind === "leaf";
}

/** The name nats-server uses for each kind in monitoring and traces. */
export function kindLabel(kind: ReceiverKind): string {
  switch (kind) {
    case "client":
      return "Client";
    case "route":
      return "Router";
    case "gateway":
      return "Gateway";
    case "leaf":
      return "Leafnode";
    case "jetstream":
      return "JetStream";
    case "account":
      return "Account";
    default:
      return "System";
  }
}
