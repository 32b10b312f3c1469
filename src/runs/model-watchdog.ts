/**
 * AGENT_MODEL_IDLE_TIMEOUT: a model call that has sent nothing for this long
 * is given up. The client's own timeout (AGENT_MODEL_TIMEOUT) ends when the
 * response starts, so a server that sends its headers and then stalls would
 * otherwise hold the run, and the session's queue behind it, until
 * AGENT_RUN_TIMEOUT.
 *
 * A token only stamps the time; one timer per run checks the stamp while a
 * model call is open, so the watchdog costs nothing per token.
 */
export class ModelWatchdog {
  private open = 0;
  private lastSign = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly idleMs: number,
    private readonly onSilence: (idleMs: number) => void,
  ) {}

  started(): void {
    this.open++;
    this.lastSign = performance.now();
    this.timer ??= setInterval(() => this.check(), Math.max(10, Math.min(1000, this.idleMs / 4)));
    this.timer.unref();
  }

  /** The model said something. */
  sign(): void {
    this.lastSign = performance.now();
  }

  ended(): void {
    this.open = Math.max(0, this.open - 1);
    if (this.open === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    if (this.open > 0 && performance.now() - this.lastSign >= this.idleMs) {
      this.stop();
      this.onSilence(this.idleMs);
    }
  }
}
