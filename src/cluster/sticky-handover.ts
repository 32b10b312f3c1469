import type { Server } from "node:http";
import type { Socket } from "node:net";

interface ReadableHandle {
  readStop(): number;
}

/**
 * Makes the WORKERS primary stop reading a connection the moment
 * @socket.io/sticky (pinned: this follows its 2.0.1 routing rule) decides to
 * hand it to a worker.
 *
 * Node passes a socket to another process by sending its file descriptor;
 * the sender's own handle is only detached (its reads go to a no-op) and is
 * closed when the worker's NODE_HANDLE_ACK is processed here, or later still
 * while earlier handles wait for theirs. Until then both processes poll the
 * same descriptor, so when this process is slow (CPU load) it can win the
 * read of the bytes that follow the handshake — the client's Socket.IO
 * CONNECT — and drop them: the worker never hears from the client and closes
 * it after WS_CONNECT_TIMEOUT. Seen as about one WebSocket connection in
 * 300–1,000 through a primary sharing its core with a busy loop
 * (test/cluster-workers.test.ts).
 *
 * Sticky keeps the socket (and forwards chunks itself) only when the first
 * chunk's header announces a body; otherwise everything after that chunk
 * belongs to the worker, so reading stops with it, queued handover or not.
 */
export function stopReadingOnHandover(httpServer: Server): void {
  // Registered after sticky's own "connection" listener, so this "data" listener follows sticky's.
  httpServer.on("connection", (socket: Socket) => {
    const handle = (socket as unknown as { _handle: ReadableHandle | null })._handle;
    socket.once("data", (chunk: Buffer) => {
      if (!announcesBody(chunk)) handle?.readStop();
    });
  });
}

/** Sticky's test for a request whose bytes it must keep forwarding itself. */
function announcesBody(chunk: Buffer): boolean {
  const header = chunk.subarray(0, chunk.indexOf("\r\n\r\n")).toString().toLowerCase();
  return header.includes("content-length:") || header.includes("transfer-encoding:");
}
