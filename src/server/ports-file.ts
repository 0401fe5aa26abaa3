import { unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The listener URLs, in nats-server's ports-file shape (empty lists omitted). */
export interface Ports {
  nats?: string[];
  monitoring?: string[];
  cluster?: string[];
  websocket?: string[];
  leafnode?: string[];
}

/**
 * Test harnesses wait for `<dir>/nats-server_<pid>.ports`, so the name is nats-server's, not the
 * executable's.
 */
export function portsFilePath(dir: string): string {
  return join(dir, `nats-server_${process.pid}.ports`);
}

export function writePortsFile(dir: string, ports: Ports): string {
  const path = portsFilePath(dir);
  writeFileSync(path, JSON.stringify(ports));
  return path;
}

export function removeFile(path: string | undefined): void {
  if (path === undefined) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
