import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import WebSocket from "ws";
import { PlainClient, type TestClient } from "./support/clients.js";
import {
  connect,
  nextEvent,
  OPERATOR_KEY,
  refusal,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";

const PYTHON = process.env["INTEROP_PYTHON"] ?? "/usr/bin/python3";
const clients = path.join(path.dirname(fileURLToPath(import.meta.url)), "interop", "dialects");
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Runs one earlier system's client against the gateway; it prints a JSON report. */
async function runClient<T>(script: string, ...args: string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(PYTHON, [path.join(clients, script), ...args], {
    timeout: 50000,
  });
  return JSON.parse(stdout) as T;
}

/** A plain WebSocket client on `path` (with its query); `connected` in whatever shape the dialect gives it. */
async function plain(url: string, pathAndQuery: string): Promise<PlainClient> {
  const client = new PlainClient(new WebSocket(`${url.replace(/^http/, "ws")}${pathAndQuery}`));
  await client.ready;
  return client;
}

async function plainRefusal(url: string, pathAndQuery: string) {
  const client = new PlainClient(new WebSocket(`${url.replace(/^http/, "ws")}${pathAndQuery}`));
  try {
    await client.ready;
  } catch (error) {
    return {
      status: client.status,
      ...(error as Error & { data: { code: string; message: string } }).data,
    };
  }
  client.close();
  throw new Error("the connection was accepted");
}

describe("compatibility dialects: selection", function () {
  let server: RunningGateway;
  before(async () => {
    server = await startGateway();
  });
  after(() => server.close());

  it("refuses an unknown or hostile dialect id before the upgrade (400) and over Socket.IO (connect_error)", async () => {
    for (const id of ["klingon", "__proto__", "constructor", "NATIVE", "x".repeat(5000)]) {
      const plainRefused = await plainRefusal(server.url, `/ws?dialect=${encodeURIComponent(id)}`);
      expect(plainRefused, id).to.include({ status: 400, code: "unknown_dialect" });
      expect(await refusal(server.url, { dialect: id }), id).to.include({
        code: "unknown_dialect",
      });
    }
    // Not a string at all.
    expect(await refusal(server.url, { dialect: { id: "native" } })).to.include({
      code: "unknown_dialect",
    });
    expect(await refusal(server.url, { dialect: ["group-chat"] })).to.include({
      code: "unknown_dialect",
    });
  });

  it("refuses a dialect on a transport its clients do not use", async () => {
    const flaskOverPlain = await plainRefusal(server.url, "/ws?dialect=flask-chat");
    expect(flaskOverPlain).to.include({ status: 400, code: "unknown_dialect" });
    expect(flaskOverPlain.message).to.match(/flask-chat.*socket\.io/);
    const coachOverSocketIo = await refusal(server.url, { dialect: "learning-coach" });
    expect(coachOverSocketIo.code).to.equal("unknown_dialect");
  });

  it("takes ?dialect= from a Socket.IO address, and auth.dialect over it", async () => {
    const { socket } = await connect(`${server.url}?dialect=agent-engine`);
    const cancelled = nextEvent(socket, "cancelled");
    expect(await request(socket, "cancel", {})).to.deep.equal({
      ok: true,
      data: { cancelled: false, reason: "nothing_running" },
    });
    expect(await cancelled).to.include({ reason: "nothing_running", message_id: null });
    socket.close();
    // auth.dialect wins over the address's.
    const native = await connect(`${server.url}?dialect=klingon`, { dialect: "native" });
    const ack = await request(native.socket, "cancel", {});
    expect(!ack.ok && ack.error.code).to.equal("not_found");
    native.socket.close();
  });

  it("leaves the native protocol unchanged where no dialect is asked for", async () => {
    const client = await plain(server.url, "/ws");
    const error = nextEvent(client, "error");
    const ack = await request(client, "cancel", {});
    expect(!ack.ok && ack.error.code).to.equal("not_found");
    expect(await error).to.not.have.property("error");
    client.close();
    // `?dialect=native` overrides a path's fixed dialect.
    const onAgentPath = await plain(server.url, "/ws/agent?dialect=native");
    const refused = await request(onAgentPath, "cancel", {});
    expect(!refused.ok && refused.error.code).to.equal("not_found");
    onAgentPath.close();
  });
});

describe("the earlier systems' own clients, only the address changed", function () {
  this.timeout(60000);
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "1", API_KEY: OPERATOR_KEY });
  });
  after(() => server.close());

  it("agent-engine: its test script's flow (Python websockets on /ws/agent): ping, agent_query, tool_call, an error, cancel with nothing running", async () => {
    const report = await runClient<Record<string, Record<string, unknown>> & { chunks: string }>(
      "agent_engine_client.py",
      server.url,
    );
    expect(report["welcome"]).to.include({ type: "connected" });
    expect(report.chunks).to.have.length.above(0);
    expect(report["stream_end"]).to.include({ type: "stream_end", total_content: report.chunks });
    expect(report["pong"]!["type"]).to.equal("pong");
    expect(report["before_response"]).to.include("status");
    expect(report["agent_response"]).to.include({ type: "agent_response", vendor: "demo" });
    expect(report["tool_result"]).to.include({ tool_name: "calculator", result: 579 });
    expect(report["error"]).to.include({ type: "error", code: "invalid_payload" });
    expect(report["error"]!["error"]).to.equal(report["error"]!["message"]);
    expect(report["cancelled"]).to.include({
      type: "cancelled",
      message_id: null,
      reason: "nothing_running",
    });
  });

  it("agent-engine: GET /ws/statistics lists its connection without a key only with WS_STATISTICS_PUBLIC=true", async () => {
    type Statistics = {
      connections_visible: boolean;
      connections?: Array<Record<string, unknown>>;
    };
    const closed = await runClient<{ statistics: Statistics }>(
      "agent_engine_client.py",
      server.url,
    );
    expect(closed.statistics).to.include({ connections_visible: false });
    expect(closed.statistics).to.not.have.property("connections");
    const open = await startGateway({ DEMO_TOKEN_DELAY_MS: "1", WS_STATISTICS_PUBLIC: "true" });
    try {
      const report = await runClient<{
        welcome: { connection_id: string };
        statistics: Statistics;
      }>("agent_engine_client.py", open.url);
      expect(report.statistics.connections_visible).to.equal(true);
      const own = report.statistics.connections?.find(
        (c) => c["id"] === report.welcome.connection_id,
      );
      expect(own).to.include.keys("id", "connected_at", "message_count", "uptime");
    } finally {
      await open.close();
    }
  });

  it("learning-coach: its message exchange (Python websockets on /ws/agents/{session_id} and /ws/projects/{project_id}/status)", async () => {
    const report = await runClient<{
      connected: Record<string, unknown>;
      frames: Array<Record<string, unknown>>;
      progress: Record<string, unknown>;
    }>("learning_coach_client.py", server.url, OPERATOR_KEY);
    expect(report.connected).to.include({ type: "connected", session_id: "learner-1" });
    const types = report.frames.map((f) => f["type"]);
    expect(types[0]).to.equal("stream_start");
    expect(types.at(-1)).to.equal("stream_end");
    const messageId = report.frames[0]!["message_id"];
    expect(messageId).to.be.a("string");
    for (const frame of report.frames) expect(frame["message_id"]).to.equal(messageId);
    const text = report.frames
      .filter((f) => f["type"] === "stream_chunk")
      .map((f) => f["content"])
      .join("");
    expect(report.frames.at(-1)!["total_content"]).to.equal(text);
    expect(report.progress["data"]).to.deep.equal({
      stage: "整体架构分析",
      completed: 3,
      total: 10,
    });
  });

  it("autocode: its envelope frames (Python websockets on /ws/projects/{guid}/status?dialect=autocode): joined on connect, feedback, pushes, ping inside the room, a refusal naming its project, a bad envelope", async () => {
    const report = await runClient<Record<string, Record<string, unknown>>>(
      "autocode_client.py",
      server.url,
      OPERATOR_KEY,
    );
    for (const [name, frame] of Object.entries(report)) {
      expect(Object.keys(frame).sort(), name).to.deep.equal([
        "data",
        "id",
        "projectGuid",
        "timestamp",
        "type",
      ]);
      expect(frame["timestamp"], name).to.match(ISO);
      expect(frame["id"], name).to.match(UUID);
    }
    expect(report["connected"]!["type"]).to.equal("connected");
    expect(report["joined"]).to.deep.include({
      type: "joined_project",
      projectGuid: "ac-project",
      data: { members: 1 },
    });
    expect(report["feedback_response"]).to.include({ projectGuid: "ac-project" });
    expect(report["feedback_response"]!["data"]).to.include({ status: "received" });
    expect(report["project_message"]!["data"]).to.include({
      kind: "user_feedback",
      content: "the login page is slow",
    });
    expect(report["stage_update"]).to.deep.include({
      type: "project_stage_update",
      projectGuid: "ac-project",
      data: { stage: "coding", progress: 40 },
    });
    expect(report["pong"]).to.include({ type: "pong", projectGuid: "ac-project" });
    expect(report["pong_outside"]).to.include({ type: "pong", projectGuid: null });
    expect(report["not_in_project"]).to.include({ type: "error", projectGuid: "g-1" });
    expect(report["not_in_project"]!["data"]).to.include({
      code: "not_in_project",
      request_type: "user_feedback",
    });
    expect(report["error"]!["data"]).to.include({
      code: "invalid_payload",
      request_type: "leave_project",
    });
    expect(report["left"]).to.deep.include({ projectGuid: "ac-project", data: { members: 0 } });
  });

  it("flask-chat: its chat page's flow (python-socketio, ?dialect=flask-chat): chat_message answered by chat_response text, agent_status, stop; a second turn with the page's own history; a local image path refused", async () => {
    type Response = { type: string; content: Record<string, unknown> };
    const report = await runClient<{
      stopped: boolean;
      second_stopped: boolean;
      history_sent: number;
      refused: boolean;
      turns: Response[][];
      errors: Array<{ code: string; message: string }>;
    }>("flask_chat_client.py", server.url);
    const [first, second, hostile] = report.turns;
    const textOf = (turn: Response[] | undefined) =>
      (turn ?? [])
        .filter((r) => r.type === "text")
        .map((r) => r.content["data"])
        .join("");
    expect(report.stopped).to.equal(true);
    const kinds = first!.map((r) => r.type);
    expect(kinds).to.include.members(["text", "agent_status", "stop"]);
    expect(kinds.indexOf("stop")).to.be.above(kinds.indexOf("text"));
    expect(textOf(first)).to.include("84");
    // The page's history: the first question and every bubble of the answer, as ChatUI objects.
    expect(report.history_sent).to.be.above(first!.length);
    expect(second!.map((r) => r.type)).to.not.include("error");
    expect(report.second_stopped).to.equal(true);
    expect(second!.at(-1)).to.deep.include({ type: "stop" });
    expect(textOf(second)).to.include("4");
    expect(report.refused).to.equal(true);
    expect(report.errors).to.have.length(1);
    expect(report.errors[0]).to.include({ code: "invalid_payload" });
    expect(hostile!.at(-1)).to.deep.include({ type: "error" });
  });
});

type Frame = { type: string; payload: Record<string, unknown> };
type TurnData = { message_id: string; agent_name: string; full_content: string; round: number };

/**
 * What the group-chat front end (useMultiAgentWebSocket, multiAgentStore)
 * keeps: one message per streaming message_id, its content the latest
 * full_content, completed by streaming_complete.
 */
function groupChatStore(client: TestClient) {
  const messages = new Map<string, { content: string; isComplete: boolean; sender: string }>();
  const completes: TurnData[] = [];
  const seen: string[] = [];
  client.onAny((type: string, message: Record<string, unknown>) => {
    seen.push(type);
    const data = message["data"] as TurnData & { token: string };
    if (type === "streaming_token" && data.message_id && data.token) {
      messages.set(data.message_id, {
        content: data.full_content,
        isComplete: false,
        sender: data.agent_name,
      });
    }
    if (type === "streaming_complete" && data.message_id) {
      messages.set(data.message_id, {
        content: data.full_content,
        isComplete: true,
        sender: data.agent_name,
      });
      completes.push(data);
    }
  });
  return { messages, completes, seen };
}

/** Each speaker turn's text as the native protocol streams it: the chunks between speaker changes. */
function nativeTurns(events: Frame[], messageId: string): Array<{ agent: string; text: string }> {
  const turns: Array<{ agent: string; text: string }> = [];
  for (const { type, payload } of events) {
    if (payload["message_id"] !== messageId) continue;
    if (type === "speaker_change") turns.push({ agent: String(payload["agent"]), text: "" });
    if (type === "stream_chunk") turns.at(-1)!.text += String(payload["content"]);
  }
  return turns.map((turn) => ({ ...turn, text: turn.text.replace(/^\n\n/, "") }));
}

describe("group-chat: its WebSocket message handling, and a mixed session", function () {
  this.timeout(30000);
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0" });
  });
  after(() => server.close());

  it("group-chat: its message flow, start_conversation → conversation_created, conversation_started, speaker_change, streaming_token…, streaming_complete, new_message (Node ws, as its browser hook)", async () => {
    const client = await plain(server.url, "/ws?dialect=group-chat");
    const store = groupChatStore(client);
    const ended = nextEvent(client, "stream_end");
    const ack = await request(client, "start_conversation", { topic: "tea", rounds: 1 });
    expect(ack.ok).to.equal(true);
    await ended;
    client.close();
    const firstOf = (type: string) => store.seen.indexOf(type);
    expect(firstOf("conversation_created")).to.equal(0);
    expect(firstOf("conversation_started")).to.equal(1);
    expect(firstOf("speaker_change")).to.equal(2);
    expect(firstOf("streaming_token")).to.be.above(2);
    expect(firstOf("streaming_complete")).to.be.above(firstOf("streaming_token"));
    expect(firstOf("new_message")).to.equal(firstOf("streaming_complete") + 1);
    expect(store.completes.length).to.be.at.least(2);
    for (const complete of store.completes) {
      expect(store.messages.get(complete.message_id)).to.deep.include({
        isComplete: true,
        content: complete.full_content,
        sender: complete.agent_name,
      });
    }
  });

  it("group-chat start_conversation with its fields under data (plain WebSocket) or at the top level (Socket.IO), participants as plain names in any script, shown as given", async () => {
    const names = ["Architect", "架构师", "Product Manager"];
    const overPlain = await plain(server.url, "/ws?dialect=group-chat");
    const overSocketIo = await connect(server.url, { dialect: "group-chat" });
    for (const [client, send] of [
      [
        overPlain,
        {
          data: { topic: "a login page", participants: names, rounds: 1 },
          timestamp: new Date().toISOString(),
        },
      ],
      [overSocketIo.socket, { topic: "a login page", participants: names, rounds: 1 }],
    ] as const) {
      const store = groupChatStore(client);
      const ended = nextEvent(client, "stream_end");
      const ack = await request(client, "start_conversation", send);
      expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      await ended;
      expect(store.completes.map((c) => c.agent_name)).to.deep.equal(names);
      for (const complete of store.completes) {
        expect(complete.full_content).to.have.length.above(0);
        expect(store.messages.get(complete.message_id)?.sender).to.equal(complete.agent_name);
      }
      client.close();
    }
  });

  it("mixed session: a native client, a group-chat plain WebSocket and a group-chat Socket.IO client watch one discussion; each streaming_complete's full_content is the native turn's text, and a resume replays the same turns", async () => {
    const sessionId = "mixed-discussion";
    const native = await connect(server.url, { session_id: sessionId });
    const nativeEvents: Frame[] = [];
    native.socket.onAny((type: string, payload: Record<string, unknown>) =>
      nativeEvents.push({ type, payload }),
    );
    const overPlain = await plain(server.url, `/ws?session_id=${sessionId}&dialect=group-chat`);
    const overSocketIo = await connect(server.url, {
      session_id: sessionId,
      dialect: "group-chat",
    });
    const stores = [groupChatStore(overPlain), groupChatStore(overSocketIo.socket)];
    const ends = [overPlain, overSocketIo.socket].map((c) => nextEvent(c, "stream_end"));
    const nativeEnd = nextEvent(native.socket, "stream_end");
    const ack = await request(native.socket, "start_conversation", {
      topic: "whether tea beats coffee",
      rounds: 2,
      message_id: "talk-1",
    });
    expect(ack.ok).to.equal(true);
    const end = await nativeEnd;
    await Promise.all(ends);
    const turns = nativeTurns(nativeEvents, "talk-1");
    expect(turns).to.have.length.at.least(4);
    expect(turns.map((t) => t.text).join("\n\n")).to.equal(end["total_content"]);
    for (const store of stores) {
      expect(store.completes.map((c) => [c.agent_name, c.full_content])).to.deep.equal(
        turns.map((t) => [t.agent, t.text]),
      );
      expect(store.completes.map((c) => c.message_id)).to.deep.equal(
        turns.map((_, i) => `talk-1:${i + 1}`),
      );
    }
    // The replay of a resume goes through the same translation.
    const late = await plain(server.url, `/ws?session_id=${sessionId}&dialect=group-chat`);
    const replayed = groupChatStore(late);
    const replayEnd = nextEvent(late, "stream_end");
    expect(await request(late, "resume", { message_id: "talk-1", after_seq: 0 })).to.include({
      ok: true,
    });
    await replayEnd;
    expect(replayed.completes).to.deep.equal(stores[0]!.completes);
    for (const client of [native.socket, overPlain, overSocketIo.socket, late]) client.close();
  });
});
