/** Which budget refused an event: `details.scope` of `rate_limited`. */
export type RateScope = "connection" | "session" | "user" | "ip";

export interface FloodGuardOptions {
  perSec: number;
  /** A connection refused without a quiet second for this long is cut off; 0 never. */
  disconnectAfterMs: number;
  /** At most one log line (and one `error` event) per refusal streak per interval. */
  reportIntervalMs: number;
}

export interface Refusal {
  /** True for the first refusal of an interval: log it and tell the client. */
  report: boolean;
  /** Refusals since the last report, this one included. */
  count: number;
  disconnect: boolean;
}

/**
 * A connection's own budget, checked synchronously in a fixed one-second
 * window: a flood is refused without a promise, a limiter call or a log line
 * per event (379,000 pings in 10 s used to cost as many of each). A
 * connection's budget needs no sharing: it lives on one node.
 */
export class FloodGuard {
  /** Every refusal of this connection, whatever the scope. */
  refused = 0;
  private windowStart = -Infinity;
  private used = 0;
  private unreported = 0;
  private lastReportAt = -Infinity;
  private overSince: number | undefined;
  private lastOverAt = -Infinity;

  constructor(private readonly options: FloodGuardOptions) {}

  /** 0 when the event may pass, else the milliseconds until the budget refills. */
  take(now: number): number {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used < this.options.perSec) {
      this.used += 1;
      return 0;
    }
    return Math.ceil(this.windowStart + 1000 - now);
  }

  refuse(now: number, scope: RateScope): Refusal {
    this.refused += 1;
    this.unreported += 1;
    const report = now - this.lastReportAt >= this.options.reportIntervalMs;
    const count = this.unreported;
    if (report) {
      this.lastReportAt = now;
      this.unreported = 0;
    }
    return { report, count, disconnect: scope === "connection" && this.staysOver(now) };
  }

  /** Over the connection's own budget without a whole quiet second since overSince. */
  private staysOver(now: number): boolean {
    if (this.overSince === undefined || now - this.lastOverAt > 1000) this.overSince = now;
    this.lastOverAt = now;
    const after = this.options.disconnectAfterMs;
    return after > 0 && now - this.overSince >= after;
  }
}

/** Event names reach logs and replies; a client may send megabytes of one. */
export const MAX_ECHOED_TYPE_LENGTH = 64;

export function echoedType(type: unknown): string {
  const name = typeof type === "string" ? type : String(type);
  return name.length > MAX_ECHOED_TYPE_LENGTH ? name.slice(0, MAX_ECHOED_TYPE_LENGTH) : name;
}
