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
