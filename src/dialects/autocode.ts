import { randomUUID } from "node:crypto";
import type { Dialect, Frame, Translator } from "./dialect.js";
import { isoTimestamp, isRecord, stringField, without } from "./frame-fields.js";

/** The envelope's own fields, which are not part of the native payload. */
const ENVELOPE = ["type", "projectGuid", "data", "timestamp", "id"] as const;

/** Native requests whose payload has a `data` object of its own: the envelope's `data` is it. */
const DATA_IS_A_FIELD = new Set(["project_update"]);

/**
 * The AutoCode protocol: every frame, both ways, is `{type, projectGuid,
 * data, timestamp, id}`. Inbound, `projectGuid` is the native `project_id`
 * and `data` holds the other fields; it wins over a `project_id` inside
 * `data`, so a frame names one project.
 */
function inbound(type: string, payload: unknown): { type: string; payload: unknown } {
  if (!isRecord(payload)) return { type, payload };
  const { projectGuid, data } = payload;
  const fields = DATA_IS_A_FIELD.has(type) ? { data } : isRecord(data) ? without(data, []) : {};
  const native = { ...without(payload, ENVELOPE), ...fields };
  // Its client sends the envelope whole even where no project applies (`ping`): null names none.
  if (projectGuid !== undefined && projectGuid !== null) native["project_id"] = projectGuid;
  return { type, payload: native };
}

/** Native pushes are `{project_id, data}`: their `data` is the envelope's; other events move whole. */
function envelopeData(payload: Record<string, unknown>): unknown {
  const rest = without(payload, ["type", "timestamp", "project_id"]);
  const keys = Object.keys(rest);
  return keys.length === 1 && keys[0] === "data" && isRecord(rest["data"]) ? rest["data"] : rest;
}

function outbound(type: string, payload: Record<string, unknown>): Frame[] {
  const envelope = {
    type,
    projectGuid: stringField(payload, "project_id") ?? null,
    data: envelopeData(payload),
    timestamp: isoTimestamp(payload),
    id: randomUUID(),
  };
  return [{ type, payload: envelope }];
}

const translator: Translator = { inbound, outbound };

export const autocode: Dialect = {
  id: "autocode",
  describe:
    "The AutoCode project-room protocol: every frame is {type, projectGuid, data, timestamp (ISO-8601), id}; projectGuid is project_id.",
  transports: ["websocket", "socket.io"],
  paths: [],
  createTranslator: () => translator,
};
