import { Decoder, Encoder } from "socket.io-parser";
import type { AckResponse } from "../../core/protocol.js";
import type { AdmitFrame, FramePeek } from "../../sessions/dispatch.js";
import type { GatewaySocket as Socket } from "./types.js";

/**
 * Socket.IO's own parser, except that a packet the gate refused is dropped
 * before it is decoded. The engine emits a socket's "packet" event and then,
 * synchronously, hands the same data to that socket's decoder: the verdict
 * crosses from one to the other in `refusedData`, reset at every hand-over.
 */
export const gatedParser = {
  Encoder,
  Decoder: class GatedDecoder extends Decoder {
    override add(data: unknown): void {
      const refused = data === refusedData;
      refusedData = NOTHING_REFUSED;
      if (!refused) super.add(data);
    }
  },
};

const NOTHING_REFUSED = Symbol("nothing refused");
let refusedData: unknown = NOTHING_REFUSED;

const EVENT = "2";
const BINARY_EVENT = "5";

interface EnginePacket {
  type: string;
  data?: unknown;
}

interface GateState {
  socket: Socket;
  admitFrame: AdmitFrame;
  /** Binary frames still to come for a refused packet: they are dropped too. */
  dropAttachments: number;
}

const GATE = Symbol("packet gate");

interface GatedEngineSocket {
  [GATE]: GateState;
  on(event: string, listener: (this: GatedEngineSocket, packet: EnginePacket) => void): void;
}

/**
 * Applies the connection's own budget to each event packet as the engine
 * receives it, before Socket.IO decodes it: a flood costs a few character
 * reads per packet instead of a JSON parse, a packet object and the
 * middleware chain. The event's name and ack id are read from the packet's
 * header, so a refused event is still answered and counted by name.
 */
export function gatePackets(socket: Socket, admitFrame: AdmitFrame): void {
  const ack = (socket as unknown as { ack?: unknown }).ack;
  if (typeof ack !== "function") {
    throw new Error("socket.io changed: a refused packet's ack can no longer be answered");
  }
  const conn = socket.conn as unknown as GatedEngineSocket;
  conn[GATE] = { socket, admitFrame, dropAttachments: 0 };
  // A shared listener (`this` is the engine socket): nothing but the state above per connection.
  conn.on("packet", gate);
}

function gate(this: GatedEngineSocket, packet: EnginePacket): void {
  refusedData = NOTHING_REFUSED;
  if (packet.type !== "message") return;
  const state = this[GATE];
  const { data } = packet;
  if (typeof data !== "string") {
    if (state.dropAttachments > 0) {
      state.dropAttachments -= 1;
      refusedData = data;
    }
    return;
  }
  state.dropAttachments = 0;
  if (data[0] !== EVENT && data[0] !== BINARY_EVENT) return;
  // The header is read only for a refusal: an admitted packet costs the budget check alone.
  if (state.admitFrame(() => peekOf(state.socket, data))) return;
  refusedData = data;
  state.dropAttachments = readHeader(data).attachments;
}

function peekOf(socket: Socket, data: string): FramePeek {
  const header = readHeader(data);
  const peek: FramePeek = {};
  if (header.type !== undefined) peek.type = header.type;
  if (header.ackId !== undefined) peek.reply = ackOf(socket, header.ackId);
  return peek;
}

function ackOf(socket: Socket, id: number): (reply: AckResponse) => void {
  return (socket as unknown as { ack(id: number): (reply: AckResponse) => void }).ack(id);
}

/** The longest event name read from a header; longer ones are echoed cut anyway. */
const MAX_PEEKED_NAME = 64;
const DIGIT_0 = 48;
const DIGIT_9 = 57;

export interface PacketHeader {
  attachments: number;
  /** Absent for another namespace's packet: its ack is not this socket's to answer. */
  ackId?: number;
  type?: string;
}

/**
 * Reads `<2|5>[<attachments>-][/<namespace>,][<ack id>]["<name>"…` without
 * parsing the JSON, in at most a few dozen character reads.
 */
export function readHeader(data: string): PacketHeader {
  let at = 1;
  let attachments = 0;
  if (data[0] === BINARY_EVENT) {
    const [count, next] = digitsAt(data, at);
    if (data[next] !== "-") return { attachments: 0 };
    attachments = count ?? 0;
    at = next + 1;
  }
  // Another namespace's packet: counted against the budget, not answered from here.
  if (data[at] === "/") return { attachments };
  const [ackId, next] = digitsAt(data, at);
  const header: PacketHeader = { attachments };
  if (ackId !== undefined) header.ackId = ackId;
  if (data[next] === "[" && data[next + 1] === '"') {
    const start = next + 2;
    const end = data.slice(start, start + MAX_PEEKED_NAME + 1).indexOf('"');
    const name = end === -1 ? "" : data.slice(start, start + end);
    // A name with escapes is read as JSON would; counted unnamed instead.
    if (end > 0 && !name.includes("\\")) header.type = name;
  }
  return header;
}

/** The number at `at` (at most 15 digits) and the index after it. */
function digitsAt(data: string, at: number): [number | undefined, number] {
  let end = at;
  while (end - at < 15) {
    const code = data.charCodeAt(end);
    if (code < DIGIT_0 || code > DIGIT_9) break;
    end += 1;
  }
  return [end === at ? undefined : Number(data.slice(at, end)), end];
}
