/** `lattice server <verb>` words that are client commands; anything else is the server's own flags. */
export const SERVER_CLIENT_VERBS: ReadonlySet<string> = new Set([
  "info",
  "ping",
  "check",
  "report",
  "list",
  "ls",
]);
