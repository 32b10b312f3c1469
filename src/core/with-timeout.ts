import { setTimeout as sleep } from "node:timers/promises";

/**
 * `work`'s outcome, or `onTimeout()`'s error once `ms` have passed, whichever
 * comes first. The timer is cancelled as soon as `work` settles, so a request
 * answered in a millisecond leaves no timer waiting out its whole budget.
 */
export async function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  const settled = new AbortController();
  const deadline = sleep(ms, undefined, { signal: settled.signal }).then(() => {
    throw onTimeout();
  });
  try {
    // Once `work` wins, aborting rejects `deadline`, a rejection the race has already handled.
    return await Promise.race([work, deadline]);
  } finally {
    settled.abort();
  }
}
