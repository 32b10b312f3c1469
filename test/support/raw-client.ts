import type { Socket as NetSocket } from "node:net";
import WebSocket from "ws";

/**
 * A Socket.IO client spoken by hand over a real WebSocket, for what the
 * official client will not do: stop reading its socket while it keeps sending.
 */
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

export function connectRaw(url: string, auth: Record<string, unknown> = {}): Promise<RawClient> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
  const closed = new Promise<number>((resolve) => ws.once("close", resolve));
  return new Promise((resolve, reject) => {
    ws.once("error", reject);
    ws.on("message", (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith("0")) ws.send(`40${JSON.stringify(auth)}`);
      else if (text === "2") ws.send("3");
      else if (text.startsWith('42["connected"')) {
        const [, connected] = JSON.parse(text.slice(2)) as [string, RawClient["connected"]];
        resolve({
          connected,
          emit: (type, payload) => ws.send(`42${JSON.stringify([type, payload])}`),
          stopReading: () => (ws as unknown as { _socket: NetSocket })._socket.pause(),
          resumeReading: () => (ws as unknown as { _socket: NetSocket })._socket.resume(),
          closed,
          close: () => ws.terminate(),
        });
      } else if (text.startsWith("44")) reject(new Error(`refused: ${text}`));
    });
  });
}
