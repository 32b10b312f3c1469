import { AggregatorRegistry } from "prom-client";
import type { MetricsSource } from "./metrics-http.js";

/**
 * WORKERS > 1: one port hides N processes and a scrape of it reaches one of
 * them. The primary asks every worker for its registry over IPC and serves
 * the sum (counters and histograms add up; per-node gauges keep their node).
 */
export function workersMetrics(): MetricsSource {
  const aggregator = new AggregatorRegistry();
  return {
    contentType: aggregator.contentType,
    read: async () => await aggregator.clusterMetrics(),
  };
}

/**
 * In a worker: answers the primary's requests for the registries named by
 * AggregatorRegistry.setRegistries (src/metrics/instruments.ts). prom-client
 * installs that answer only when an AggregatorRegistry is constructed in the
 * worker; without one every scrape of the sum timed out after 5 s.
 */
export function answerPrimaryScrapes(): void {
  new AggregatorRegistry();
}
