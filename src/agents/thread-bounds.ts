/** How long and how many conversations a checkpointer keeps. */
export interface ThreadBounds {
  /** A thread not written for this long is deleted (AGENT_THREAD_TTL). */
  ttlMs: number;
  /** Most threads held in memory; the least recently written go first (AGENT_MAX_THREADS). */
  maxThreads: number;
}

export const DEFAULT_THREAD_BOUNDS: ThreadBounds = { ttlMs: 86_400_000, maxThreads: 10_000 };

// Idle threads are looked for at least once a minute, so one outlives its TTL by at most that.
const MAX_SWEEP_INTERVAL_MS = 60_000;

/** Runs `sweep` periodically without keeping the process alive; the result stops it. */
export function everySweep(ttlMs: number, sweep: () => void): () => void {
  const timer = setInterval(sweep, Math.min(ttlMs, MAX_SWEEP_INTERVAL_MS));
  timer.unref();
  return () => clearInterval(timer);
}
