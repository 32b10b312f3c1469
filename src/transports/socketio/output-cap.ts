import type { GatewaySocket as Socket } from "./types.js";
import type { LogSource } from "../../core/logger.js";

interface EnginePacket {
  data?: unknown;
}

/** The `ws` socket under engine.io's websocket transport; absent under polling. */
export interface RawWebSocket {
  bufferedAmount: number;
  isPaused: boolean;
  pause(): void;
  resume(): void;
  terminate(): void;
}

/**
 * Caps the output waiting for one client. A client that stops reading leaves
 * packets in the engine's write buffer (the transport stays unwritable until
 * the kernel takes the previous batch) and the last batch in the WebSocket's
 * own buffer: unbounded, that grew the process by 1.7 GB in 20 s. Over the cap
 * the connection is closed at once; the session and its runs go on for the
 * others.
 *
 * The engine's buffer is tracked incrementally ("packetCreate" adds, "flush"
 * empties it), so the check costs a few additions per packet, never a scan.
 */
export function capPendingOutput(socket: Socket, maxBytes: number, logs: LogSource): void {
  const conn = socket.conn as unknown as CappedEngineSocket;
  conn[CAP] = { socket, maxBytes, logs, queuedBytes: 0, closing: false };
  // Shared listeners (`this` is the engine socket): nothing but the state above per connection.
  conn.on("packetCreate", countPacket);
  conn.on("flush", emptied);
}

interface CapState {
  socket: Socket;
  maxBytes: number;
  logs: LogSource;
  queuedBytes: number;
  closing: boolean;
}

const CAP = Symbol("output cap");

interface CappedEngineSocket {
  [CAP]: CapState;
  on(event: string, listener: (this: CappedEngineSocket, packet: EnginePacket) => void): void;
}

function countPacket(this: CappedEngineSocket, packet: EnginePacket): void {
  const cap = this[CAP];
  // Disconnecting queues a packet of its own: this handler runs again inside closeNow.
  if (cap.closing) return;
  cap.queuedBytes += sizeOf(packet.data);
  const pending = cap.queuedBytes + transportBuffered(cap.socket);
  if (pending <= cap.maxBytes) return;
  cap.logs.log.warn("closing the connection: the client does not read its output", {
    reason: "slow_consumer",
    limit_bytes: cap.maxBytes,
    pending_bytes: pending,
  });
  cap.closing = true;
  closeNow(cap.socket);
}

function emptied(this: CappedEngineSocket): void {
  this[CAP].queuedBytes = 0;
}

/**
 * Disconnects and drops the transport without waiting for a drain that a
 * client which does not read never allows; its buffers are released now
 * rather than after the WebSocket's 30 s closing handshake.
 */
export function closeNow(socket: Socket): void {
  if (socket.connected) socket.disconnect(true);
  const raw = rawWebSocket(socket);
  if (raw) raw.terminate();
  else socket.conn.close(true);
}

export function rawWebSocket(socket: Socket): RawWebSocket | undefined {
  const transport = socket.conn.transport as unknown as { name: string; socket?: RawWebSocket };
  return transport.name === "websocket" ? transport.socket : undefined;
}

function transportBuffered(socket: Socket): number {
  return rawWebSocket(socket)?.bufferedAmount ?? 0;
}

function sizeOf(data: unknown): number {
  if (typeof data === "string") return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}
