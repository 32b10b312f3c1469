/**
 * Consecutive failures of the configured model, for /readyz, and the error a
 * failure becomes: it names where the model lives, since "Connection error."
 * alone does not tell an operator which upstream to look at.
 */
export class ModelHealth {
  private failures = 0;

  constructor(
    /** host[:port] of the model server. */
    readonly endpoint: string,
    private readonly failuresNotReady: number,
  ) {}

  succeeded(): void {
    this.failures = 0;
  }

  failed(error: unknown): Error {
    this.failures++;
    const reason = error instanceof Error ? error.message : String(error);
    return new Error(`the model at ${this.endpoint} did not answer: ${reason}`, { cause: error });
  }

  /** Null while the model is usable; a reason once it failed too often in a row. */
  notReadyReason(): string | null {
    return this.failures >= this.failuresNotReady
      ? `model at ${this.endpoint} failed ${this.failures} times in a row`
      : null;
  }
}
