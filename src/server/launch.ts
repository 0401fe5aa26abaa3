import type { ServerOptions } from "./options.js";
import { Server } from "./server.js";

/** Build a server with every listener its options ask for, and start it. */
export async function launchServer(options: ServerOptions): Promise<Server> {
  const server = new Server(options);
  server.logBanner();
  if (options.httpPort !== undefined || options.httpsPort !== undefined) {
    const { MonitorListener } = await import("../monitor/http.js");
    server.extraListeners.push(new MonitorListener());
  }
  if (options.websocket !== undefined) {
    const { WebSocketListener } = await import("../websocket/listener.js");
    server.extraListeners.push(new WebSocketListener());
  }
  if (options.jetstream?.enabled) {
    const { startJetStream } = await import("../jetstream/engine.js");
    await startJetStream(server, options.jetstream);
  }
  await server.start();
  return server;
}
