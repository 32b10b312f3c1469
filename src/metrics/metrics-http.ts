import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hasApiKey } from "../http/routes.js";
import { toWireError, GatewayError } from "../core/errors.js";
import { registry } from "./instruments.js";

/** How a node's metrics are read: its own registry, or the workers' sum in a WORKERS primary. */
export interface MetricsSource {
  contentType: string;
  read(): Promise<string>;
}

export const processMetrics: MetricsSource = {
  contentType: registry.contentType,
  read: () => registry.metrics(),
};

/**
 * Answers a scrape, or 401 without the token. Plain node:http, so the same
 * function serves the main app's route and the small METRICS_PORT server.
 */
export async function answerScrape(
  source: MetricsSource,
  token: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (token !== undefined && !hasApiKey(token, req.headers.authorization)) {
    const error = new GatewayError(
      "unauthorized",
      "A valid token is required: Authorization: Bearer <METRICS_TOKEN or API_KEY>",
    );
    res.writeHead(401, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: toWireError(error) }));
    return;
  }
  try {
    const body = await source.read();
    res.writeHead(200, { "content-type": source.contentType });
    res.end(body);
  } catch (error) {
    res.writeHead(500, { "content-type": "text/plain" });
    res.end(`metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/** METRICS_PORT: a server of its own that answers GET /metrics and nothing else. */
export function listenForScrapes(
  port: number,
  host: string,
  token: string | undefined,
  source: MetricsSource = processMetrics,
): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url?.split("?")[0] === "/metrics") {
      void answerScrape(source, token, req, res);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("Only GET /metrics is served on METRICS_PORT\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve({ server, address: server.address() as AddressInfo });
    });
  });
}
