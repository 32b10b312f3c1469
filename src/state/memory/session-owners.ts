/** Anonymous sessions are owned by nobody in particular, and by no user. */
export type Principal = string | null;

interface OwnerRecord {
  owner: Principal;
  expiresAt: number;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Who owns each session, remembered after its connections leave so that
 * nobody else can take the session id over while its conversation and
 * streams still exist. A record is never dropped before its expiry: evicting
 * one early to make room would hand the session to whoever asks next.
 */
export class SessionOwners {
  private readonly records = new Map<string, OwnerRecord>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    // Lazy expiry alone would keep sessions nobody asks for again.
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** The remembered owner, or undefined if the session is unknown or its record expired. */
  get(sessionId: string): { owner: Principal } | undefined {
    const record = this.records.get(sessionId);
    if (!record) return undefined;
    if (record.expiresAt > this.now()) return record;
    this.records.delete(sessionId);
    return undefined;
  }

  /** True if a session not remembered yet may be added under `max`. */
  hasRoom(max: number): boolean {
    if (this.records.size < max) return true;
    this.sweep();
    return this.records.size < max;
  }

  remember(sessionId: string, owner: Principal, ttlMs: number): void {
    this.records.set(sessionId, { owner, expiresAt: this.now() + ttlMs });
  }

  /** Extends a remembered session's record; an expired or unknown one stays forgotten. */
  refresh(sessionId: string, ttlMs: number): void {
    const record = this.get(sessionId);
    if (record) this.records.set(sessionId, { owner: record.owner, expiresAt: this.now() + ttlMs });
  }

  get size(): number {
    return this.records.size;
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = this.now();
    for (const [sessionId, record] of this.records) {
      if (record.expiresAt <= now) this.records.delete(sessionId);
    }
  }
}
