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

/** A connection's part of a budget it shares with others (its address's). */
export interface BudgetShare {
  /** Events per second this connection may send now. */
  perSec(): number;
}

/**
 * A connection's own budget, checked synchronously: a flood is refused
 * without a promise, a limiter call or a log line per event (379,000 pings
 * in 10 s used to cost as many of each). A connection's budget needs no
 * sharing: it lives on one node. It holds in every second, not in fixed
 * windows (which let twice the budget through across a window's edge), so
 * the connections sharing an address never pass more than the address's
 * budget together, however their windows and the address's fall.
 */
export class FloodGuard {
  /** Every refusal of this connection, whatever the scope. */
  refused = 0;
  /** When the latest passes happened: a ring as long as the connection's own budget, made on first use. */
  private passedAt: Float64Array | undefined;
  private passes = 0;
  private unreported = 0;
  private lastReportAt = -Infinity;
  private overSince: number | undefined;
  private lastOverAt = -Infinity;

  constructor(
    private readonly options: FloodGuardOptions,
    private readonly share?: BudgetShare,
  ) {}

  /** Events per second this connection may send: its own budget, or its share if smaller. */
  get perSec(): number {
    const own = this.options.perSec;
    return this.share ? Math.min(own, this.share.perSec()) : own;
  }

  /** 0 when the event may pass, else the milliseconds until the budget refills. */
  take(now: number): number {
    const limit = this.perSec;
    const ring = (this.passedAt ??= new Float64Array(this.options.perSec));
    if (this.passes >= limit) {
      // The pass `limit` passes ago must be a second old: then at most `limit` fall in any second.
      const earlier = ring[(this.passes - limit) % ring.length] ?? -Infinity;
      if (now - earlier < 1000) return Math.ceil(earlier + 1000 - now);
    }
    ring[this.passes % ring.length] = now;
    this.passes += 1;
    return 0;
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

/**
 * Splits each address's budget (WS_RATE_LIMIT_PER_USER_PER_SEC) among the
 * anonymous connections this node has from it. The address's budget is
 * checked after a connection's own, so without a share one client with a few
 * connections, each under its own budget, could spend all of it and starve
 * everyone else behind the same NAT; with a share, such a connection is over
 * its own budget and is cut off for it (WS_RATE_LIMIT_DISCONNECT_AFTER) while
 * its neighbours keep theirs. Per node: connections of one address on several
 * nodes split each node's view.
 */
export class AddressShares {
  private readonly open = new Map<string, number>();

  constructor(private readonly perAddress: number) {}

  /** Counts the connection in its address's split until `leave` is called (once). */
  join(address: string): BudgetShare & { leave(): void } {
    const open = this.open;
    const perAddress = this.perAddress;
    open.set(address, (open.get(address) ?? 0) + 1);
    let left = false;
    return {
      // At least one a second: past that many connections the address's own budget refuses.
      perSec: () => Math.max(1, Math.floor(perAddress / (open.get(address) ?? 1))),
      leave() {
        if (left) return;
        left = true;
        // What it passed in its last second still counts against the address
        // for that second: only then may the others' shares grow.
        setTimeout(() => {
          const remaining = (open.get(address) ?? 1) - 1;
          if (remaining > 0) open.set(address, remaining);
          else open.delete(address);
        }, 1000).unref();
      },
    };
  }
}

/** Event names reach logs and replies; a client may send megabytes of one. */
export const MAX_ECHOED_TYPE_LENGTH = 64;

export function echoedType(type: unknown): string {
  const name = typeof type === "string" ? type : String(type);
  return name.length > MAX_ECHOED_TYPE_LENGTH ? name.slice(0, MAX_ECHOED_TYPE_LENGTH) : name;
}
