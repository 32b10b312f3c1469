/** Small helpers the dialects share to reshape native payloads. */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A copy of `payload` without `keys`; own properties only, so a `__proto__` key stays plain data. */
export function without(
  payload: Record<string, unknown>,
  keys: readonly string[],
): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (!keys.includes(key))
      Object.defineProperty(copy, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return copy;
}

/** The native timestamp (seconds since the epoch) as ISO-8601, which some earlier protocols use. */
export function isoTimestamp(payload: Record<string, unknown>): string {
  const seconds = payload["timestamp"];
  return new Date(typeof seconds === "number" ? seconds * 1000 : Date.now()).toISOString();
}

export function stringField(payload: Record<string, unknown>, key: string): string | undefined {
  const value = payload[key];
  return typeof value === "string" ? value : undefined;
}

export function numberField(payload: Record<string, unknown>, key: string): number | undefined {
  const value = payload[key];
  return typeof value === "number" ? value : undefined;
}
