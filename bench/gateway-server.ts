/**
 * The gateway as the benchmark runs it: a separate process configured from
 * its environment like src/main.ts, with the bench model in place of the demo
 * one so a message can ask for a long, zero-delay answer.
 */
import { loadConfig } from "../src/core/config.js";
import { createLogger } from "../src/core/logger.js";
import { createGateway } from "../src/gateway.js";
import { BenchChatModel } from "./bench-model.js";
import { instrumentFirstToken, serveRunner } from "./server-ipc.js";

const config = loadConfig();
const log = createLogger({ level: config.logLevel, format: config.logFormat });
const model = new BenchChatModel();
const gateway = await createGateway({ config, log, agentModel: { model, vendor: "demo" } });
const firstToken =
  process.env["BENCH_FIRST_TOKEN"] === "1"
    ? instrumentFirstToken(gateway.io, () => model.timings.at(-1))
    : undefined;
const address = await gateway.listen();
serveRunner(address.port, { firstToken, stop: () => gateway.close() });
