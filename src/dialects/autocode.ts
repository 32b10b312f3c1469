import { randomUUID } from "node:crypto";
import type { Dialect, Frame, NativeMessage, Translator } from "./dialect.js";
import { isoTimestamp, isRecord, stringField, without } from "./frame-fields.js";

/** The envelope's own fields, which are not part of the native payload. */
const ENVELOPE = ["type", "projectGuid", "data", "timestamp", "id"] as const;

/** Native requests whose payload has a `data` object of its own: the envelope's `data` is it. */
const DATA_IS_A_FIELD = new Set(["project_update"]);

/** Native requests that name a project; any other request leaves `projectGuid` to its reply. */
const NAMES_A_PROJECT = new Set([
  "join_project",
  "leave_project",
  "user_feedback",
  "project_update",
]);

/** Each request answered by one event of its own, which takes its place in the queue. */
const ANSWERED_BY = new Map([
  ["pong", "ping"],
  ["joined_project", "join_project"],
  ["left_project", "leave_project"],
  ["user_feedback_response", "user_feedback"],
]);
const ANSWERED = new Set(ANSWERED_BY.values());

/** Requests of one type awaiting their answer on a connection; more drop the oldest. */
const MAX_AWAITED_PER_TYPE = 16;
/** Other request types followed per connection: a client inventing types cannot grow the map. */
const MAX_AWAITED_TYPES = 32;
/** Longest type followed; a longer one is no handler's. */
const MAX_TYPE_CHARS = 64;
/** A guid kept for an answer is a native project id; another is kept as none (the request is refused anyway). */
const PROJECT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Native pushes are `{project_id, data}`: their `data` is the envelope's; other events move whole. */
function envelopeData(payload: Record<string, unknown>): unknown {
  const rest = without(payload, ["type", "timestamp", "project_id"]);
  const keys = Object.keys(rest);
  return keys.length === 1 && keys[0] === "data" && isRecord(rest["data"]) ? rest["data"] : rest;
}

/**
 * The AutoCode protocol: every frame, both ways, is `{type, projectGuid,
 * data, timestamp, id}`. Inbound, `projectGuid` is the native `project_id`
 * of the requests that name a project, and `data` holds the other fields; it
 * wins over a `project_id` inside `data`, so a frame names one project.
 *
 * Its client puts `projectGuid` on every frame, `ping` included, and reads
 * it on every answer: a reply or error without a `project_id` of its own
 * (`pong`, `error`) carries the `projectGuid` of the request it answers.
 * Requests are awaited per type, in order: the native answers of one type
 * come in the order asked, and an answer that names its project takes that
 * project's place.
 */
class AutocodeTranslator implements Translator {
  /** By native request type: the projectGuid of each request not yet answered, oldest first. */
  private readonly awaited = new Map<string, Array<string | null>>();

  inbound(type: string, payload: unknown): NativeMessage {
    if (!isRecord(payload)) return { type, payload };
    const { projectGuid, data } = payload;
    const fields = DATA_IS_A_FIELD.has(type) ? { data } : isRecord(data) ? without(data, []) : {};
    const native = { ...without(payload, ENVELOPE), ...fields };
    // Null names no project; a guid that is not a string goes on, for the schema to refuse.
    const guid = projectGuid === undefined ? null : projectGuid;
    if (guid !== null && NAMES_A_PROJECT.has(type)) native["project_id"] = guid;
    this.await(type, typeof guid === "string" && PROJECT_ID.test(guid) ? guid : null);
    return { type, payload: native };
  }

  outbound(type: string, payload: Record<string, unknown>): Frame[] {
    const envelope = {
      type,
      projectGuid: this.projectOf(type, payload),
      data: envelopeData(payload),
      timestamp: isoTimestamp(payload),
      id: randomUUID(),
    };
    return [{ type, payload: envelope }];
  }

  private await(type: string, guid: string | null): void {
    let queue = this.awaited.get(type);
    if (!queue) {
      const known = ANSWERED.has(type) || NAMES_A_PROJECT.has(type);
      if (!known && (this.awaited.size >= MAX_AWAITED_TYPES || type.length > MAX_TYPE_CHARS))
        return;
      this.awaited.set(type, (queue = []));
    }
    // A request with no answer of its own is never taken off: only the latest is kept.
    if (!ANSWERED.has(type)) queue.length = 0;
    queue.push(guid);
    if (queue.length > MAX_AWAITED_PER_TYPE) queue.shift();
  }

  private projectOf(type: string, payload: Record<string, unknown>): string | null {
    const named = stringField(payload, "project_id");
    const request = type === "error" ? stringField(payload, "request_type") : ANSWERED_BY.get(type);
    const queue = request === undefined ? undefined : this.awaited.get(request);
    if (named !== undefined) {
      // A push names its project too, but answers nothing: only a reply takes a place.
      const place = ANSWERED_BY.has(type) ? (queue?.indexOf(named) ?? -1) : -1;
      if (place >= 0) queue?.splice(place, 1);
      return named;
    }
    return queue?.shift() ?? null;
  }
}

export const autocode: Dialect = {
  id: "autocode",
  describe:
    "The AutoCode project-room protocol: every frame is {type, projectGuid, data, timestamp (ISO-8601), id}; projectGuid is project_id, and answers carry the projectGuid of their request.",
  transports: ["websocket", "socket.io"],
  paths: [],
  createTranslator: () => new AutocodeTranslator(),
};
