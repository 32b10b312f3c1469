import type { Socket as NetSocket } from "node:net";
import WebSocket from "ws";

/**
 * A Socket.IO client written by hand at the Engine.IO level, to do what the
 * real client never does: stop halfway through a handshake, or never send
 * the namespace CONNECT at all.
 */
export function openEngine(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`, {
    headers,
  });
  return new Promise((resolve, reject) => {
    ws.once("message", (data: Buffer) => {
      // The Engine.IO open packet ("0{sid,...}") comes first.
      const text = data.toString("utf8");
      if (text.startsWith("0")) resolve(ws);
      else reject(new Error(`unexpected first packet ${text}`));
    });
    ws.once("unexpected-response", (_req, res) =>
      reject(new Error(`handshake refused with HTTP ${res.statusCode}`)),
    );
    ws.once("error", reject);
  });
}

/** Sends the namespace CONNECT with `auth`, then drops the TCP connection at once. */
export async function connectThenVanish(url: string, auth: Record<string, unknown>) {
  const ws = await openEngine(url);
  ws.send(`40${JSON.stringify(auth)}`);
  ws.terminate();
}

/** Resolves when the server closes the transport. */
export function closed(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => ws.once("close", () => resolve()));
}

/** The text frames a raw client receives, awaited one matching frame at a time. */
export function framesOf(ws: WebSocket) {
  const seen: string[] = [];
  const waiting: Array<{ match: (frame: string) => boolean; resolve: (frame: string) => void }> =
    [];
  ws.on("message", (data: Buffer) => {
    const frame = data.toString("utf8");
    const i = waiting.findIndex((w) => w.match(frame));
    if (i >= 0) waiting.splice(i, 1)[0]?.resolve(frame);
    else seen.push(frame);
  });
  return {
    next(match: (frame: string) => boolean): Promise<string> {
      const i = seen.findIndex(match);
      if (i >= 0) return Promise.resolve(seen.splice(i, 1)[0] as string);
      return new Promise((resolve) => waiting.push({ match, resolve }));
    },
  };
}

/** A Socket.IO connection spoken by hand that can stop reading while it keeps sending. */
export interface RawClient {
  /** The server's `connected` event. */
  connected: { connection_id: string; session_id: string };
  /** Sends one Socket.IO event (no ack). */
  emit(type: string, payload: unknown): void;
  /** Stops reading: the kernel buffers fill and the server's output backs up. */
  stopReading(): void;
  resumeReading(): void;
  /** Resolves with the close code once the connection has closed and the client has read up to it. */
  closed: Promise<number>;
  close(): void;
}

/** Completes the namespace CONNECT (answering pings) and resolves on the server's `connected`. */
export async function connectRaw(
  url: string,
  auth: Record<string, unknown> = {},
): Promise<RawClient> {
  const ws = await openEngine(url);
  const socketOf = () => (ws as unknown as { _socket: NetSocket })._socket;
  const closedWith = new Promise<number>((resolve) => ws.once("close", resolve));
  ws.send(`40${JSON.stringify(auth)}`);
  return new Promise((resolve, reject) => {
    ws.once("close", () => reject(new Error("closed before connected")));
    ws.on("message", (data: Buffer) => {
      const text = data.toString("utf8");
      if (text === "2") ws.send("3");
      else if (text.startsWith('42["connected"')) {
        const [, connected] = JSON.parse(text.slice(2)) as [string, RawClient["connected"]];
        resolve({
          connected,
          emit: (type, payload) => ws.send(`42${JSON.stringify([type, payload])}`),
          stopReading: () => socketOf().pause(),
          resumeReading: () => socketOf().resume(),
          closed: closedWith,
          close: () => ws.terminate(),
        });
      } else if (text.startsWith("44")) reject(new Error(`refused: ${text}`));
    });
  });
}
