import { existsSync } from "node:fs";
import { ConfigError, loadConfig, type Config } from "./core/config.js";
import { createLogger } from "./core/logger.js";
import { isWorker, runPrimary, serveInWorker, workerGatewayOptions } from "./cluster/workers.js";
import { startupFailureLine } from "./startup-failure.js";

if (existsSync(".env")) process.loadEnvFile(".env");

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`The gateway cannot start: ${error.message}`);
  process.exit(1);
}

const log = createLogger({ level: config.logLevel, format: config.logFormat });
process.on("unhandledRejection", (error) => log.error("unhandled rejection", { error }));

try {
  if (config.workers > 1 && !isWorker()) {
    // WORKERS=N: this process only owns the port; the workers run this file again.
    await runPrimary(config, log);
  } else {
    await serve(config);
  }
} catch (error) {
  // A setting the operator must change is one line on stderr; anything else is a bug, logged whole.
  const line = startupFailureLine(error, config);
  if (line === undefined) log.error("gateway failed to start", { error });
  else console.error(`The gateway cannot start: ${line}`);
  process.exit(1);
}

async function serve(config: Config): Promise<void> {
  // Imported here, not at the top: a WORKERS primary never loads the agents.
  const { createGateway } = await import("./gateway.js");
  const gateway = await createGateway({ config, log, ...workerGatewayOptions(config) });
  if (isWorker()) {
    serveInWorker(gateway);
    log.info("worker ready", { pid: process.pid, node_id: gateway.nodeId });
  } else {
    const address = await gateway.listen();
    // A wildcard address is not one a browser can open: point at this machine instead.
    const host = ["0.0.0.0", "::"].includes(address.address)
      ? "localhost"
      : address.family === "IPv6"
        ? `[${address.address}]`
        : address.address;
    log.info("gateway listening", {
      console: `http://${host}:${address.port}/`,
      host: address.address,
      port: address.port,
      handlers: [...gateway.handlers.keys()],
      graphs: gateway.graphs.list().map((g) => g.name),
    });
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error("shutdown failed", { error });
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}
