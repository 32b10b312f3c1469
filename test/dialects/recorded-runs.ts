import { randomUUID } from "node:crypto";
import type { Socket as ClientSocket } from "socket.io-client";
import type { AckResponse } from "../../src/core/protocol.js";
import type { Frame, Translator } from "../../src/dialects/index.js";
import { connect, recordEvents, request } from "../support/gateway.js";

export type NativeEvent = { type: string; payload: Record<string, unknown> };

const RUN_ENDS = new Set(["stream_end", "cancelled", "error"]);

/** Resolves with every event up to and including the end of run `messageId` (of any run when not given). */
function untilEnd(socket: ClientSocket, messageId?: string): Promise<NativeEvent[]> {
  const events = recordEvents(socket);
  return new Promise((resolve) => {
    socket.onAny((type: string, payload: Record<string, unknown>) => {
      if (RUN_ENDS.has(type) && (messageId ?? payload["message_id"]) === payload["message_id"])
        resolve(events);
    });
  });
}

export interface RecordedRun {
  sessionId: string;
  ack: AckResponse;
  events: NativeEvent[];
  socket: ClientSocket;
}

/** A real run on a real gateway, recorded as a client of the session receives it. */
export async function recordRun(
  url: string,
  type: string,
  payload: Record<string, unknown>,
  messageId?: string,
  sessionId = `dialect-${randomUUID()}`,
): Promise<RecordedRun> {
  const { socket } = await connect(url, { session_id: sessionId });
  const ended = untilEnd(socket, messageId);
  const ack = await request(socket, type, payload);
  if (!ack.ok) throw new Error(`${type} refused: ${ack.error.code}`);
  return { sessionId, ack, events: await ended, socket };
}

/** Asks to replay run `messageId` from `afterSeq` on a new connection of its session. */
export async function recordResume(
  url: string,
  sessionId: string,
  messageId: string,
  afterSeq: number,
): Promise<NativeEvent[]> {
  const { socket } = await connect(url, { session_id: sessionId });
  const ended = untilEnd(socket, messageId);
  await request(socket, "resume", { message_id: messageId, after_seq: afterSeq });
  const events = await ended;
  socket.close();
  return events;
}

export function translateAll(translator: Translator, events: NativeEvent[]): Frame[] {
  return events.flatMap((e) => translator.outbound(e.type, e.payload));
}

export const ofType = (frames: Frame[], type: string): Frame[] =>
  frames.filter((f) => f.type === type);
