/** The part of a `ws` WebSocket that can stop reading its TCP socket. */
interface Pausable {
  readonly isPaused: boolean;
  pause(): void;
  resume(): void;
}

/**
 * Stops reading a WebSocket for `ms` (polling has nothing to pause: each
 * request is bounded already). Resumed even once disconnected: a closing
 * WebSocket must still read the peer's close frame.
 */
export function pauseSocket(ws: Pausable | undefined, ms: number): void {
  if (!ws || ws.isPaused) return;
  ws.pause();
  setTimeout(() => ws.resume(), ms).unref();
}
