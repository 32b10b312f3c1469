// The wait before a retry, for every retry loop of the gateway.

export interface Backoff {
  /** The wait before the first retry (at most). */
  firstMs: number;
  /** The longest wait, however many tries failed. */
  maxMs: number;
}

/**
 * The wait before retry number `attempt` (1, 2, ...): doubling from `firstMs`
 * up to `maxMs`, of which a random half is taken off. Nodes that lost Redis
 * or the back end at the same moment would otherwise retry in step and meet
 * its recovery all at once; keeping the other half fixed means a wait never
 * shrinks to nothing.
 */
export function backoffMs(
  attempt: number,
  { firstMs, maxMs }: Backoff,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(firstMs * 2 ** Math.max(attempt - 1, 0), maxMs);
  return ceiling / 2 + (random() * ceiling) / 2;
}
