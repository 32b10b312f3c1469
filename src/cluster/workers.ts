import cluster, { type Worker } from "node:cluster";
import { createServer } from "node:http";
import { createAdapter, setupPrimary as setupAdapterPrimary } from "@socket.io/cluster-adapter";
import { setupMaster, setupWorker } from "@socket.io/sticky";
import { answerPrimaryScrapes, workersMetrics } from "../metrics/cluster-metrics.js";
import { listenForScrapes } from "../metrics/metrics-http.js";
import { stopReadingOnHandover } from "./sticky-handover.js";
import type { Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import type { Gateway, GatewayOptions } from "../gateway.js";

const READY = "gateway:worker-ready";

/** True in a process forked by runPrimary. */
export const isWorker = (): boolean => cluster.isWorker;

/**
 * WORKERS=N: this process owns the port and hands each connection to one of
 * N worker processes, each a full gateway. @socket.io/sticky routes by the
 * Engine.IO session id, so a polling client's every request reaches the
 * worker that holds its session (without that, the handshake of a polling
 * client fails with "Session ID unknown"); a WebSocket connection simply
 * stays where it was handed.
 *
 * With REDIS_URL the workers are cluster nodes like separate machines: shared
 * state, Redis adapter. Without it, @socket.io/cluster-adapter relays
 * broadcasts between the workers over IPC, but each worker keeps its own
 * state, so the caps, statistics, project counts, run registry and stream
 * history are per worker. That is fine on a laptop and wrong in production,
 * hence the warning.
 *
 * Resolves once every worker is ready and the port listens. SIGTERM/SIGINT
 * is passed on to the workers, which drain (SHUTDOWN_GRACE_SECONDS) and exit;
 * this process exits when they all have, 0 if they all exited cleanly.
 */
export async function runPrimary(config: Config, log: Logger): Promise<void> {
  if (!config.redisUrl) {
    log.warn(
      "WORKERS > 1 without REDIS_URL: broadcasts reach every worker, but connection caps, statistics, project counts, the run registry and stream history are per worker",
    );
    // Relays the workers' cluster-adapter messages to each other.
    setupAdapterPrimary();
  }
  // Sticky hands the first bytes of each request over IPC as a Buffer, which JSON would mangle.
  cluster.setupPrimary({ serialization: "advanced" });
  const httpServer = createServer();
  setupMaster(httpServer, { loadBalancingMethod: "least-connection" });
  stopReadingOnHandover(httpServer);

  let stopping = false;
  let failed = false;
  const fork = (): Promise<Worker> => {
    const worker = cluster.fork();
    return new Promise((resolve, reject) => {
      worker.on("message", (message: unknown) => {
        if ((message as { type?: unknown }).type === READY) resolve(worker);
      });
      worker.once("exit", (code) => reject(new Error(`worker exited with ${code} during start`)));
    });
  };
  cluster.on("exit", (worker, code, signal) => {
    if (code !== 0) failed = true;
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log.info("all workers stopped");
        httpServer.close();
        process.exit(failed ? 1 : 0);
      }
      return;
    }
    // A crashed worker's clients reconnect; a new worker takes its place.
    log.error("worker died; starting another", { pid: worker.process.pid, code, signal });
    fork().catch((error: unknown) => log.error("replacement worker failed", { error }));
  });

  await Promise.all(Array.from({ length: config.workers }, fork));
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { metricsPort, metricsToken } = config.operating;
  if (metricsPort !== undefined)
    await listenForScrapes(metricsPort, config.host, metricsToken, workersMetrics());
  const address = httpServer.address();
  log.info("gateway listening", {
    ...(typeof address === "object" && address
      ? { host: address.address, port: address.port }
      : {}),
    workers: config.workers,
  });

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down workers", { signal });
    // The port stays open while the workers drain: polling clients' requests still pass through here.
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

/** What a worker's gateway needs beyond the configuration. */
export function workerGatewayOptions(config: Config): Pick<GatewayOptions, "adapter"> {
  return cluster.isWorker && !config.redisUrl ? { adapter: createAdapter() } : {};
}

/** Takes connections from the primary instead of listening, and tells it this worker is ready. */
export function serveInWorker(gateway: Gateway): void {
  setupWorker(gateway.io);
  answerPrimaryScrapes();
  gateway.serve();
  // Orphaned (the primary was killed): stop like on SIGTERM rather than linger without a port.
  process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
  // Ready once it knows the other workers' session members: the primary then hands out
  // no client whose sessions a worker could wrongly believe are all its own.
  void gateway.peersKnown().then(() => process.send?.({ type: READY }));
}
