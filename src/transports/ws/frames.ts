import type { RawData } from "ws";
import { GatewayError } from "../../core/errors.js";
import type { AckResponse } from "../../core/protocol.js";
import type { FramePeek } from "../../sessions/dispatch.js";

/** A client frame as the dispatcher takes it; `malformed` is refused after the rate and size checks. */
export interface DecodedFrame {
  type: unknown;
  payload: unknown;
  requestId?: string | number;
  malformed?: GatewayError;
}

/**
 * One JSON object per text frame: `type` and the payload's fields at the top
 * level, or the payload under `data` (as one of the earlier systems sends it).
 * `request_id` asks for an `ack` frame and is not part of the payload.
 */
export function decodeFrame(text: string): DecodedFrame {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return malformed("The frame is not JSON: send one JSON object per text frame");
  }
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    return malformed('A frame is one JSON object such as {"type": "ping"}');
  }
  const { type, request_id: requestId, data, ...fields } = message as Record<string, unknown>;
  const id = typeof requestId === "string" || typeof requestId === "number" ? requestId : undefined;
  const withId = id === undefined ? {} : { requestId: id };
  if (typeof type !== "string") {
    return { ...malformed('A frame needs a string "type"'), ...withId };
  }
  const nested = typeof data === "object" && data !== null && !Array.isArray(data);
  const payload =
    nested && Object.keys(fields).length === 0
      ? data
      : { ...fields, ...(data === undefined ? {} : { data }) };
  return { type, payload, ...withId };
}

/** `{"type": "<name>"` at the frame's start, the way clients write it, read without JSON.parse. */
const LEADING_TYPE = /^\s*\{\s*"type"\s*:\s*"([^"\\]{1,64})"/;
/** Enough of a frame's start for LEADING_TYPE. */
const PEEKED_BYTES = 96;

/** What a refused frame is reported as: its type when it leads the object. */
export function peekType(
  data: RawData,
  isBinary: boolean,
): Omit<FramePeek, "reply"> & {
  requestId?: string | number;
} {
  if (isBinary || !Buffer.isBuffer(data)) return {};
  const type = LEADING_TYPE.exec(data.toString("latin1", 0, PEEKED_BYTES))?.[1];
  const requestId = peekRequestId(data);
  return {
    ...(type === undefined ? {} : { type }),
    ...(requestId === undefined ? {} : { requestId }),
  };
}

const REQUEST_ID_KEY = Buffer.from('"request_id"');
/** The value after the key: a number, or a short string without escapes. */
const REQUEST_ID_VALUE = /^\s*:\s*(?:"([^"\\]{1,128})"|(-?\d{1,15}))/;

/**
 * A refused frame's request_id, found without JSON.parse (a native byte
 * search and a look at what follows), so a flood stays cheap and every
 * request is still answered once. The first occurrence counts, as clients
 * write the key once at the top level; one inside a string value would be
 * read wrongly, and then only the refusal's ack goes astray.
 */
function peekRequestId(data: Buffer): string | number | undefined {
  const at = data.indexOf(REQUEST_ID_KEY);
  if (at < 0) return undefined;
  const start = at + REQUEST_ID_KEY.length;
  const match = REQUEST_ID_VALUE.exec(data.toString("latin1", start, start + 160));
  if (!match) return undefined;
  return match[1] ?? Number(match[2]);
}

export const binaryFrame = (): DecodedFrame =>
  malformed("Binary frames are not accepted: send JSON in text frames");

function malformed(message: string): DecodedFrame {
  return {
    type: undefined,
    payload: undefined,
    malformed: new GatewayError("invalid_payload", message),
  };
}

/** The reply Socket.IO gives as an ack, as a frame of its own. */
export function ackFrame(requestId: string | number, reply: AckResponse): string {
  return JSON.stringify({
    type: "ack",
    timestamp: Date.now() / 1000,
    request_id: requestId,
    ...reply,
  });
}
