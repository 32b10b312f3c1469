import type { HandlerRegistry } from "../registry/load-handlers.js";
import type { ServerEventType } from "../core/protocol.js";

/**
 * The events the core sends, whatever the handlers: admission, errors, runs,
 * project pushes, shutdown. Events a handler sends are declared in its own
 * file (`events`), and listed from there.
 */
const CORE_EVENTS: Partial<Record<ServerEventType, string>> = {
  connected: "Sent once admitted: connection and session ids, heartbeat",
  error: "An event was refused or a run failed: code, message, details, request_type or message_id",
  tool_result: "A tool's result inside a run",
  tool_start: "A run called a tool",
  stream_start: "A run of the session started streaming",
  stream_chunk: "Tokens of a run, with a per-stream seq",
  stream_end: "The run finished; total_content is the chunks joined",
  speaker_change: "A discussion's next participant speaks",
  cancelled: "A run or queued message was cancelled, with its partial content",
  status: "A non-streaming query is being processed",
  agent_response: "The answer to agent_query",
  project_message: "Project push (POST /api/projects/{id}/events)",
  project_stage_update: "Project push",
  project_status_change: "Project push",
  progress_update: "Progress of a run or a project push",
  agent_message: "Project push",
  server_shutdown: "The server is shutting down; reconnect",
  token_expired: "The JWT expired; the connection closes",
};

/** Each server event with what it means, from the core and from every handler that declares it. */
function serverEventSummaries(handlers: HandlerRegistry): Map<string, string[]> {
  const summaries = new Map<string, string[]>();
  const add = (events: Partial<Record<string, string>>, from?: string) => {
    for (const [type, summary = ""] of Object.entries(events)) {
      const list = summaries.get(type) ?? [];
      list.push(from ? `${summary} (from ${from})` : summary);
      summaries.set(type, list);
    }
  };
  add(CORE_EVENTS);
  for (const { definition } of handlers.values())
    if (definition.events) add(definition.events, definition.type);
  return summaries;
}

/** AsyncAPI 3.0 of the Socket.IO namespace `/`: the handlers' schemas and the server's events. */
export function asyncApiDocument(handlers: HandlerRegistry, version: string) {
  const clientMessages = Object.fromEntries(
    [...handlers.values()].map(({ definition }) => [
      definition.type,
      {
        name: definition.type,
        summary: definition.description,
        payload: definition.schema,
        "x-ack": "{ok: true, data} or {ok: false, error: {code, message, details?}}",
      },
    ]),
  );
  const serverMessages = Object.fromEntries(
    [...serverEventSummaries(handlers)].map(([type, summaries]) => [
      `server_${type}`,
      {
        name: type,
        summary: summaries.join("; "),
        payload: {
          type: "object",
          required: ["type", "timestamp"],
          properties: { type: { const: type }, timestamp: { type: "number" } },
        },
      },
    ]),
  );
  const refs = (names: string[]) => names.map((n) => ({ $ref: `#/channels/root/messages/${n}` }));
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Agent gateway real-time protocol",
      version,
      description:
        "Socket.IO v4, namespace `/`. Each client event may carry an ack. See docs/protocol.md.",
    },
    channels: {
      root: {
        address: "/",
        messages: { ...clientMessages, ...serverMessages },
      },
    },
    operations: {
      clientSends: {
        action: "receive",
        channel: { $ref: "#/channels/root" },
        messages: refs(Object.keys(clientMessages)),
      },
      serverSends: {
        action: "send",
        channel: { $ref: "#/channels/root" },
        messages: refs(Object.keys(serverMessages)),
      },
    },
  };
}
