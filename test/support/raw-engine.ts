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
