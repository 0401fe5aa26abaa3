import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer, Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { ServerOptions } from "../server/options.js";
import type { Listener, Server } from "../server/server.js";
import { secureContextOptions } from "../tls/index.js";
import { accountz } from "./accountz.js";
import { connz } from "./connz.js";
import { gatewayz } from "./gatewayz.js";
import { healthz } from "./healthz.js";
import { indexPage } from "./index-page.js";
import { jsz } from "./jsz.js";
import { leafz } from "./leafz.js";
import type { ServerMetrics } from "./metrics.js";
import { routez } from "./routez.js";
import { subsz } from "./subsz.js";
import { type EndpointResult, HttpError } from "./types.js";
import { CpuSampler, varz } from "./varz.js";

type Endpoint = (q: URLSearchParams, now: Date) => EndpointResult;

/** "/mon/" and "mon" both mean "/mon"; "" and "/" mean the root. */
export function normalizeBasePath(p: string): string {
  const trimmed = p.replace(/\/+$/, "");
  if (trimmed === "") return "";
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

/** The HTTP monitoring port: nats-server's endpoints plus Prometheus /metrics. */
export class MonitorListener implements Listener {
  readonly name = "monitoring";
  private http: HttpServer | HttpsServer | undefined;
  private server: Server | undefined;
  private port = 0;
  private secure = false;
  private basePath = "";
  private readonly reqStats = new Map<string, number>();
  private readonly cpu = new CpuSampler();
  /** prom-client takes ~100 ms to load: it is loaded once the listener is up, not on the startup path. */
  private metrics: Promise<ServerMetrics> | undefined;
  private routes = new Map<string, Endpoint>();

  async start(server: Server): Promise<string[]> {
    this.server = server;
    const o = server.options;
    this.basePath = normalizeBasePath(o.httpBasePath);
    this.routes = this.buildRoutes(server);
    // https_port: the client certificate from `tls { }`, without asking clients for theirs.
    const secure = o.httpsPort !== undefined && o.tls !== undefined;
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    let http: HttpServer | HttpsServer;
    if (secure) {
      http = createHttpsServer(secureContextOptions(o.tls!), handler);
    } else {
      http = createServer(handler);
    }
    this.http = http;
    const wanted = (secure ? o.httpsPort : o.httpPort) ?? -1;
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen({ host: o.httpHost, port: Math.max(wanted, 0) }, () => {
        http.off("error", reject);
        resolve();
      });
    });
    this.port = (http.address() as AddressInfo).port;
    const host = o.httpHost.includes(":") ? `[${o.httpHost}]` : o.httpHost;
    const scheme = secure ? "https" : "http";
    server.logger.info(`Starting ${scheme} monitor on ${host}:${this.port}`);
    this.secure = secure;
    setImmediate(() => this.loadMetrics(server));
    return [`${scheme}://${displayHost(o.httpHost)}:${this.port}`];
  }

  /** https_port: the client certificate files are read again; new connections use them. */
  reloadTls(next: ServerOptions): void {
    const http = this.http;
    if (!this.secure || next.tls === undefined || http === undefined || !(http instanceof HttpsServer)) {
      return;
    }
    http.setSecureContext(secureContextOptions(next.tls));
  }

  private loadMetrics(server: Server): Promise<ServerMetrics> {
    this.metrics ??= import("./metrics.js").then(({ ServerMetrics }) => new ServerMetrics(server));
    return this.metrics;
  }

  async stop(): Promise<void> {
    const http = this.http;
    this.http = undefined;
    if (http === undefined) return;
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    // Idle keep-alive sockets would otherwise hold close() open for seconds.
    http.closeAllConnections();
    await closed;
  }

  private buildRoutes(server: Server): Map<string, Endpoint> {
    const json = (f: (q: URLSearchParams, now: Date) => object) => (q: URLSearchParams, now: Date) => ({
      body: f(q, now),
    });
    const varzExtras = () => ({
      httpPort: this.secure ? 0 : this.port,
      httpsPort: this.secure ? this.port : 0,
      httpReqStats: this.reqStats,
      cpu: this.cpu.sample(),
    });
    return new Map<string, Endpoint>([
      ["/varz", json((_q, now) => varz(server, varzExtras(), now))],
      ["/connz", json((q, now) => connz(server, q, now))],
      ["/routez", json((q, now) => routez(server, q, now))],
      ["/gatewayz", json((q, now) => gatewayz(server, q, now))],
      ["/leafz", json((q, now) => leafz(server, q, now))],
      ["/subsz", json((q, now) => subsz(server, q, now))],
      ["/subscriptionsz", json((q, now) => subsz(server, q, now))],
      ["/accountz", json((q, now) => accountz(server, q, now))],
      ["/jsz", json((q, now) => jsz(server, q, now))],
      ["/healthz", (q) => healthz(server, q)],
    ]);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.respond(req.url ?? "/").then(
      (reply) => send(res, reply),
      (err: unknown) => send(res, this.failure(req.url ?? "", err)),
    );
  }

  private async respond(rawUrl: string): Promise<Reply> {
    let url: URL;
    try {
      url = new URL(rawUrl, "http://localhost");
    } catch {
      return { status: 400, type: TEXT, body: "400 Bad Request" };
    }
    const base = this.basePath;
    let path = url.pathname;
    if (base !== "") {
      if (path !== base && !path.startsWith(`${base}/`)) return NOT_FOUND;
      path = path.slice(base.length);
    }
    if (path === "" || path === "/") {
      this.count("/");
      return { status: 200, type: "text/html; charset=utf-8", body: indexPage(base) };
    }
    if (path === "/metrics") {
      this.count(path);
      const metrics = await this.loadMetrics(this.server!);
      return { status: 200, type: metrics.contentType, body: await metrics.render() };
    }
    const endpoint = this.routes.get(path);
    if (endpoint === undefined) return NOT_FOUND;
    this.count(path);
    const result = endpoint(url.searchParams, new Date());
    const status = result.status ?? 200;
    const text = result.compact ? JSON.stringify(result.body) : JSON.stringify(result.body, null, 2);
    const callback = url.searchParams.get("callback");
    // JSONP, as nats-server offers; the name is checked so it can't smuggle script into the page.
    if (callback && /^[A-Za-z_$][\w$.]*$/.test(callback)) {
      return { status, type: "application/javascript", body: `${callback}(${text})` };
    }
    return { status, type: "application/json", body: text };
  }

  private count(path: string): void {
    this.reqStats.set(path, (this.reqStats.get(path) ?? 0) + 1);
  }

  private failure(url: string, err: unknown): Reply {
    if (err instanceof HttpError) return { status: err.status, type: TEXT, body: err.message };
    this.server?.logger.error(`Error serving ${url}: ${err instanceof Error ? err.stack : String(err)}`);
    return { status: 500, type: TEXT, body: "internal error" };
  }
}

interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const TEXT = "text/plain; charset=utf-8";
// Go's http.NotFound, byte for byte.
const NOT_FOUND: Reply = {
  status: 404,
  type: TEXT,
  body: "404 page not found\n",
  headers: { "X-Content-Type-Options": "nosniff" },
};

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, {
    ...reply.headers,
    "Content-Type": reply.type,
    "Access-Control-Allow-Origin": "*",
    "Content-Length": Buffer.byteLength(reply.body),
  });
  res.end(reply.body);
}
