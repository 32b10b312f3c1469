/**
 * The gateway as the benchmark runs it: a separate process configured from
 * its environment like src/main.ts, with the bench model in place of the demo
 * one so a message can ask for a long, zero-delay answer. With WORKERS > 1 it
 * goes through src/cluster/workers.ts like main.ts does (the runner then
 * passes a fixed PORT, since the primary owns the port).
 */
import {
  isWorker,
  runPrimary,
  serveInWorker,
  workerGatewayOptions,
} from "../src/cluster/workers.js";
import { loadConfig } from "../src/core/config.js";
import { createLogger } from "../src/core/logger.js";
import { createGateway } from "../src/gateway.js";
import { BenchChatModel } from "./bench-model.js";
import { instrumentBroadcast, instrumentFirstToken, serveRunner } from "./server-ipc.js";

const config = loadConfig();
const log = createLogger({ level: config.logLevel, format: config.logFormat });
if (config.workers > 1 && !isWorker()) {
  await runPrimary(config, log);
  serveRunner(config.port, {
    // runPrimary stops its workers on SIGTERM and exits once they have.
    stop: () => new Promise<void>(() => process.kill(process.pid, "SIGTERM")),
  });
} else {
  const model = new BenchChatModel(Number(process.env["BENCH_YIELD_EVERY"] ?? 0));
  const gateway = await createGateway({
    config,
    log,
    agentModel: { model, vendor: "demo" },
    ...workerGatewayOptions(config),
  });
  if (isWorker()) {
    serveInWorker(gateway);
  } else {
    const firstToken =
      process.env["BENCH_FIRST_TOKEN"] === "1"
        ? instrumentFirstToken(gateway.io, () => model.timings.at(-1))
        : undefined;
    const broadcastTimes =
      process.env["BENCH_BROADCAST"] === "1" ? instrumentBroadcast(gateway.io) : undefined;
    const address = await gateway.listen();
    serveRunner(address.port, { firstToken, broadcastTimes, stop: () => gateway.close() });
  }
}
