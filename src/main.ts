import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "./core/config.js";
import { createLogger } from "./core/logger.js";
import { createGateway } from "./gateway.js";

if (existsSync(".env")) process.loadEnvFile(".env");

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const log = createLogger({ level: config.logLevel, format: config.logFormat });
process.on("unhandledRejection", (error) => log.error("unhandled rejection", { error }));

try {
  const gateway = await createGateway({ config, log });
  const address = await gateway.listen();
  log.info("gateway listening", {
    host: address.address,
    port: address.port,
    handlers: [...gateway.handlers.keys()],
  });

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
} catch (error) {
  log.error("gateway failed to start", { error });
  process.exit(1);
}
