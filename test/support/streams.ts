import type { TestClient } from "./clients.js";

export interface Chunk {
  message_id: string;
  seq: number;
  content: string;
  agent: string;
}

export interface StreamOutcome {
  chunks: Chunk[];
  /** The terminal event: stream_end, cancelled, error, or run_interrupted (the run waits for resume_run). */
  end: { type: string; [key: string]: unknown };
}

const TERMINAL = ["stream_end", "cancelled", "error", "run_interrupted"];

/** Collects one stream's chunks, as this client receives them, until its terminal event. */
export function collectStream(
  socket: TestClient,
  messageId: () => string | undefined,
): Promise<StreamOutcome> {
  const chunks: Chunk[] = [];
  return new Promise((resolve) => {
    const listener = (type: string, payload: Record<string, unknown>) => {
      if (payload["message_id"] !== messageId()) return;
      if (type === "stream_chunk") chunks.push(payload as unknown as Chunk);
      if (TERMINAL.includes(type)) {
        socket.offAny(listener);
        resolve({ chunks, end: { ...payload, type } });
      }
    };
    socket.onAny(listener);
  });
}

export const joined = (chunks: Chunk[]): string => chunks.map((c) => c.content).join("");

export function expectContiguous(chunks: Chunk[], from = 1): boolean {
  return chunks.every((c, i) => c.seq === from + i);
}
