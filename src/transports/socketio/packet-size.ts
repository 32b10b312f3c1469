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
  let packetBytes = 0;
  socket.conn.on("packet", (packet: { type: string; data?: unknown }) => {
    if (packet.type !== "message") return;
    const data = packet.data;
    if (typeof data === "string") {
      // A header starts a packet. A UTF-8 byte is at most 3 per UTF-16 unit:
      // skip the exact count when it cannot matter.
      packetBytes =
        data.length * 3 <= limits.maxMessageBytes ? data.length : Buffer.byteLength(data);
      return;
    }
    if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) packetBytes += data.byteLength;
    if (packetBytes > limits.maxFrameBytes && socket.connected) {
      logs.log.warn("closing the connection: a packet's attachments exceed WS_MAX_FRAME_BYTES", {
        limit_bytes: limits.maxFrameBytes,
        received_bytes: packetBytes,
      });
      closeNow(socket);
    }
  });
  return () => packetBytes;
}
