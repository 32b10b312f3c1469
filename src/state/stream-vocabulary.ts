import type { StreamEvent, StreamRef } from "./types.js";

/** Stream types that end a stream; a follower stops after delivering one. */
export const TERMINAL_TYPES: ReadonlySet<string> = new Set([
  "stream_end",
  "cancelled",
  "error",
  "run_interrupted",
]);

/**
 * One key per stream. A message id cannot contain "/" (a JWT user's session
 * key does: src/auth/principal.ts), so the last "/" splits the key unambiguously.
 */
export const streamKey = ({ sessionId, messageId }: StreamRef): string =>
  `${sessionId}/${messageId}`;

/**
 * What a follower replays from a history: the chunks after the seq it has,
 * and always the terminal event (it carries no seq).
 */
export function isReplayed(event: StreamEvent, afterSeq: number): boolean {
  const seq = event.payload.seq;
  return (seq !== undefined && seq > afterSeq) || TERMINAL_TYPES.has(event.type);
}
