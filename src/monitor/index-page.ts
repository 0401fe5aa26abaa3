import { LATTICE_VERSION } from "../version.js";

// The HTML index at the monitoring root, linking every endpoint under the base path.

const LINKS: ReadonlyArray<readonly [string, string]> = [
  ["varz", "General"],
  ["jsz", "JetStream"],
  ["connz", "Connections"],
  ["accountz", "Accounts"],
  ["subsz", "Subscriptions"],
  ["routez", "Routes"],
  ["leafz", "LeafNodes"],
  ["gatewayz", "Gateways"],
  ["healthz", "Health Probe"],
  ["metrics", "Prometheus Metrics"],
];

export function indexPage(basePath: string): string {
  const links = LINKS.map(([path, label]) => `    <a href="${basePath}/${path}">${label}</a>`).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Lattice monitoring</title>
    <style>
      body { font-family: ui-sans-serif, system-ui, sans-serif; margin-left: 32px }
      a { display: block; margin-left: 7px; padding-bottom: 6px; color: rgb(72 72 92); text-decoration: none }
      a:hover { font-weight: 600; color: rgb(59 50 202) }
    </style>
  </head>
  <body>
    <h1>Lattice <small>v${LATTICE_VERSION}</small></h1>
${links}
  </body>
</html>
`;
}
