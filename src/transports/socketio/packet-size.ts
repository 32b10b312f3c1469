import type { GatewaySocket as Socket } from "./types.js";
import type { LogSource } from "../../core/logger.js";
import { closeNow } from "./output-cap.js";

/**
 * Measures each Socket.IO packet as it arrives: its header frame and every
 * binary attachment (each its own engine frame). Socket.IO hands decoded
 * arguments to middleware without their size, so the engine's "packet"
 * events, fired synchronously before, are summed here. Measuring only the
 * last frame let nine 7.9 MB attachments through a 1 MB limit.
 *
 * A packet whose frames together pass the transport cap (WS_MAX_FRAME_BYTES)
 * closes the connection, as one frame over it does: the parser buffers every
 * attachment before the packet can be refused.
 */
export function measurePackets(
  socket: Socket,
  limits: { maxMessageBytes: number; maxFrameBytes: number },
  logs: LogSource,
): () => number {
  const conn = socket.conn as unknown as MeasuredEngineSocket;
  const state: PacketState = { socket, limits, logs, packetBytes: 0 };
  conn[SIZE] = state;
  // A shared listener (`this` is the engine socket): nothing but the state above per connection.
  conn.on("packet", measure);
  return () => state.packetBytes;
}

interface PacketState {
  socket: Socket;
  limits: { maxMessageBytes: number; maxFrameBytes: number };
  logs: LogSource;
  packetBytes: number;
}

const SIZE = Symbol("packet size");

interface EnginePacket {
  type: string;
  data?: unknown;
}

interface MeasuredEngineSocket {
  [SIZE]: PacketState;
  on(event: string, listener: (this: MeasuredEngineSocket, packet: EnginePacket) => void): void;
}

function measure(this: MeasuredEngineSocket, packet: EnginePacket): void {
  if (packet.type !== "message") return;
  const state = this[SIZE];
  const { limits } = state;
  const data = packet.data;
  if (typeof data === "string") {
    // A header starts a packet. A UTF-8 byte is at most 3 per UTF-16 unit:
    // skip the exact count when it cannot matter.
    state.packetBytes =
      data.length * 3 <= limits.maxMessageBytes ? data.length : Buffer.byteLength(data);
    return;
  }
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) state.packetBytes += data.byteLength;
  if (state.packetBytes > limits.maxFrameBytes && state.socket.connected) {
    state.logs.log.warn(
      "closing the connection: a packet's attachments exceed WS_MAX_FRAME_BYTES",
      {
        limit_bytes: limits.maxFrameBytes,
        received_bytes: state.packetBytes,
      },
    );
    closeNow(state.socket);
  }
}
