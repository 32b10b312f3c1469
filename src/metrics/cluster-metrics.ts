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
