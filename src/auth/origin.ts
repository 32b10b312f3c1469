/**
 * Browsers send `Origin` on every WebSocket upgrade and cross-site request;
 * other clients usually send none. A browser page on a foreign site must not
 * reach the gateway with its visitor's network position, so with no
 * CORS_ORIGINS only pages served by the gateway itself (same host) get in.
 */
export function isOriginAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[] | "*",
): boolean {
  if (origin === undefined || allowed === "*") return true;
  if (allowed.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false; // "null" (sandboxed frames, file://) or garbage
  }
}
