import { randomUUID } from "node:crypto";
import { isRecord, without } from "./frame-fields.js";

/** The group-chat envelope's own fields: a request's fields sit beside them or under `data`. */
const ENVELOPE = ["type", "timestamp", "data"];

/** Native requests whose payload has a `data` field of its own, which stays as it is. */
const DATA_IS_A_FIELD = new Set(["project_update"]);

/** The native participant name: also a graph node's name (src/registry/schemas.ts). */
const NATIVE_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/** A display name as its people type it, in any script; its length in characters. */
const DISPLAY_NAME_CHARS = 64;
/** Control characters, line and paragraph separators, and bidirectional overrides, which could disguise a name. */
const UNSHOWABLE = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

const PARTICIPANT_KEYS = new Set(["name", "style"]);

/** The native maximum: a longer list is refused there, so its names are never remembered here. */
const MAX_PARTICIPANTS = 6;

/** Each native speaker id of one discussion → the name its client gave. */
export type DisplayNames = Map<string, string>;

export interface GroupChatRequest {
  payload: unknown;
  /** The run's message id and its speakers' names as given, when they differ from the native ids. */
  names?: { messageId: string; byId: DisplayNames };
}

/**
 * A group-chat request → the native payload. Its client sends the fields
 * under `data` or beside `type`, and names `start_conversation`'s
 * participants as plain strings or `{name, style?}`, with names as people
 * write them ("Architect", "架构师"). Natively a participant's name is also a
 * graph node's name, so a name that is not one gets a safe id, and the
 * dialect shows the name as given. Whatever it cannot read goes on as it
 * came, for the native schema to refuse by name.
 */
export function nativeRequest(type: string, payload: unknown): GroupChatRequest {
  if (!isRecord(payload) || DATA_IS_A_FIELD.has(type)) return { payload };
  const { data } = payload;
  const fields = { ...without(payload, ENVELOPE), ...(isRecord(data) ? without(data, []) : {}) };
  if (!isRecord(data) && data !== undefined) fields["data"] = data;
  const listed = fields["participants"];
  if (type !== "start_conversation" || !Array.isArray(listed) || listed.length > MAX_PARTICIPANTS)
    return { payload: fields };
  const byId: DisplayNames = new Map();
  const participants = speakers(listed, byId);
  fields["participants"] = participants;
  if (byId.size === 0) return { payload: fields };
  const given = fields["message_id"];
  if (given !== undefined && typeof given !== "string") return { payload: fields };
  const messageId = given ?? randomUUID();
  return { payload: { ...fields, message_id: messageId }, names: { messageId, byId } };
}

function speakers(participants: unknown[], byId: DisplayNames): unknown[] {
  const idOf = new Map<string, string>();
  const taken = new Set<string>();
  for (const p of participants) {
    const name = typeof p === "string" ? p : isRecord(p) ? p["name"] : undefined;
    if (typeof name === "string" && NATIVE_NAME.test(name)) taken.add(name);
  }
  return participants.map((participant, index) => {
    const named = typeof participant === "string" ? { name: participant } : participant;
    if (!isRecord(named) || !Object.keys(named).every((key) => PARTICIPANT_KEYS.has(key)))
      return participant;
    const { name, style } = named;
    if (typeof name !== "string" || NATIVE_NAME.test(name)) return named;
    if (!showable(name)) return participant;
    // The same name twice keeps one id, so the native check refuses the duplicate.
    let id = idOf.get(name);
    if (id === undefined) {
      id = safeId(name, index, taken);
      idOf.set(name, id);
      taken.add(id);
      byId.set(id, name);
    }
    return { name: id, style: style ?? `speaks as ${name}` };
  });
}

function showable(name: string): boolean {
  const chars = [...name].length;
  return chars > 0 && chars <= DISPLAY_NAME_CHARS && /\S/u.test(name) && !UNSHOWABLE.test(name);
}

/** A readable id where the name has one ("Product Manager" → product_manager), else speaker_<n>. */
function safeId(name: string, index: number, taken: Set<string>): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (NATIVE_NAME.test(slug) && !taken.has(slug)) return slug;
  let n = index + 1;
  while (taken.has(`speaker_${n}`)) n++;
  return `speaker_${n}`;
}
