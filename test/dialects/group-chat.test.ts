import { expect } from "chai";
import { dialectFor } from "../../src/dialects/index.js";
import { turnId } from "../../src/dialects/group-chat.js";
import {
  connect,
  nextEvent,
  request,
  startGateway,
  type RunningGateway,
} from "../support/gateway.js";
import {
  ofType,
  recordResume,
  recordRun,
  translateAll,
  type RecordedRun,
} from "./recorded-runs.js";

const groupChat = dialectFor("group-chat");
const PARTICIPANTS = [{ name: "optimist" }, { name: "skeptic" }, { name: "pragmatist" }];

/** The turn frames a client shows, without the envelope's clock. */
const turnFrames = (frames: ReturnType<typeof translateAll>) =>
  frames
    .filter((f) =>
      ["speaker_change", "streaming_token", "streaming_complete", "new_message"].includes(f.type),
    )
    .map((f) => {
      const data = { ...(f.payload["data"] as Record<string, unknown>) };
      const message = data["message"] as Record<string, unknown> | undefined;
      if (message) data["message"] = { ...message, timestamp: undefined };
      return { type: f.type, data };
    });

describe("dialect group-chat (the group-chat protocol, its message flow)", function () {
  this.timeout(30000);
  let server: RunningGateway;
  let discussion: RecordedRun;
  let chat: RecordedRun;

  before(async () => {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0" });
    discussion = await recordRun(
      server.url,
      "start_conversation",
      { topic: "remote work", participants: PARTICIPANTS, rounds: 2, message_id: "talk-1" },
      "talk-1",
    );
    chat = await recordRun(
      server.url,
      "message",
      { content: "Tell me about rivers", message_id: "chat-1" },
      "chat-1",
    );
  });
  after(async () => {
    discussion.socket.close();
    chat.socket.close();
    await server.close();
  });

  it("announces the discussion, then each turn as speaker_change, streaming_token…, streaming_complete, new_message", () => {
    const frames = translateAll(
      groupChat.createTranslator({ sessionId: discussion.sessionId }),
      discussion.events,
    );
    expect(frames.slice(0, 2).map((f) => f.type)).to.deep.equal([
      "conversation_created",
      "conversation_started",
    ]);
    expect(frames[0]?.payload["data"]).to.deep.equal({
      session_id: discussion.sessionId,
      conversation_id: "talk-1",
    });
    for (const frame of frames) {
      expect(frame.payload["type"]).to.equal(frame.type);
      expect(frame.payload["timestamp"]).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    const changes = ofType(frames, "speaker_change").map((f) => f.payload["data"]);
    expect(changes).to.have.length(6);
    expect(changes.map((d) => (d as Record<string, unknown>)["agent_name"])).to.deep.equal([
      "optimist",
      "skeptic",
      "pragmatist",
      "optimist",
      "skeptic",
      "pragmatist",
    ]);
    expect(changes.map((d) => (d as Record<string, unknown>)["round"])).to.deep.equal([
      1, 1, 1, 2, 2, 2,
    ]);
    expect(changes.map((d) => (d as Record<string, unknown>)["message_id"])).to.deep.equal(
      [1, 2, 3, 4, 5, 6].map((n) => turnId("talk-1", n)),
    );
    expect(frames.at(-1)?.type).to.equal("stream_end");
  });

  it("gives each turn's full_content at streaming_complete as that turn's text in the native stream_end", () => {
    const frames = translateAll(
      groupChat.createTranslator({ sessionId: discussion.sessionId }),
      discussion.events,
    );
    const end = discussion.events.find((e) => e.type === "stream_end");
    const turnsText = String(end?.payload["total_content"]).split("\n\n");
    const completes = ofType(frames, "streaming_complete").map(
      (f) => f.payload["data"] as Record<string, unknown>,
    );
    expect(completes.map((d) => d["full_content"])).to.deep.equal(turnsText);
    expect(completes.every((d) => d["is_complete"] === true)).to.equal(true);
    const stored = ofType(frames, "new_message").map(
      (f) => (f.payload["data"] as { message: Record<string, unknown> }).message,
    );
    expect(stored.map((m) => m["content"])).to.deep.equal(turnsText);
    expect(stored.map((m) => m["sender"])).to.deep.equal(completes.map((d) => d["agent_name"]));
  });

  it("streams every token with the turn's text so far, never complete before streaming_complete", () => {
    const frames = translateAll(
      groupChat.createTranslator({ sessionId: discussion.sessionId }),
      discussion.events,
    );
    const byTurn = new Map<string, string>();
    for (const frame of ofType(frames, "streaming_token")) {
      const data = frame.payload["data"] as Record<string, unknown>;
      const id = String(data["message_id"]);
      const sofar = (byTurn.get(id) ?? "") + String(data["token"]);
      byTurn.set(id, sofar);
      expect(data["full_content"]).to.equal(sofar);
      expect(data["is_complete"]).to.equal(false);
      expect(data["session_id"]).to.equal(discussion.sessionId);
    }
    expect(byTurn.size).to.equal(6);
  });

  it("gives two clients of the session the same turn ids and frames", () => {
    const first = translateAll(
      groupChat.createTranslator({ sessionId: discussion.sessionId }),
      discussion.events,
    );
    const second = translateAll(
      groupChat.createTranslator({ sessionId: discussion.sessionId }),
      discussion.events,
    );
    expect(second).to.deep.equal(first);
  });

  it("yields the same turns from a resume, whose replay holds only the chunks and the end", async () => {
    const live = translateAll(
      groupChat.createTranslator({ sessionId: discussion.sessionId }),
      discussion.events,
    );
    const replay = await recordResume(server.url, discussion.sessionId, "talk-1", 0);
    expect(replay.some((e) => e.type === "speaker_change")).to.equal(false);
    const resumed = translateAll(
      groupChat.createTranslator({ sessionId: discussion.sessionId }),
      replay,
    );
    expect(turnFrames(resumed)).to.deep.equal(turnFrames(live));
  });

  it("shows a plain chat run as one turn of its agent", () => {
    const frames = translateAll(
      groupChat.createTranslator({ sessionId: chat.sessionId }),
      chat.events,
    );
    const end = chat.events.find((e) => e.type === "stream_end");
    const completes = ofType(frames, "streaming_complete").map(
      (f) => f.payload["data"] as Record<string, unknown>,
    );
    expect(completes).to.have.length(1);
    expect(completes[0]).to.include({
      message_id: turnId("chat-1", 1),
      agent_name: "agent",
      round: 1,
    });
    expect(completes[0]?.["full_content"]).to.equal(end?.payload["total_content"]);
    expect(ofType(frames, "conversation_created")).to.have.length(0);
  });
});

describe("dialect group-chat with coalesced chunks", function () {
  this.timeout(30000);
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0", WS_STREAM_COALESCE_MS: "20" });
  });
  after(() => server.close());

  it("keeps the turn separator out of full_content when it shares a chunk with the speaker's words", async () => {
    const run = await recordRun(
      server.url,
      "start_conversation",
      { topic: "city parks", participants: PARTICIPANTS, rounds: 1, message_id: "talk-2" },
      "talk-2",
    );
    run.socket.close();
    const frames = translateAll(
      groupChat.createTranslator({ sessionId: run.sessionId }),
      run.events,
    );
    const end = run.events.find((e) => e.type === "stream_end");
    const completes = ofType(frames, "streaming_complete").map(
      (f) => (f.payload["data"] as Record<string, unknown>)["full_content"],
    );
    expect(completes).to.deep.equal(String(end?.payload["total_content"]).split("\n\n"));
  });
});

describe("dialect group-chat: start_conversation as its client sends it", function () {
  this.timeout(30000);
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0" });
  });
  after(() => server.close());

  /** The speakers a group-chat client is shown, in turn order, and how the run ended. */
  async function discussion(payload: Record<string, unknown>) {
    const { socket } = await connect(server.url, { dialect: "group-chat" });
    const speakers: string[] = [];
    socket.on("speaker_change", (frame: { data: { agent_name: string } }) =>
      speakers.push(frame.data.agent_name),
    );
    const ended = nextEvent(socket, "stream_end");
    const ack = await request(socket, "start_conversation", payload);
    if (ack.ok) await ended;
    socket.close();
    return { ack, speakers };
  }

  it("names speakers as given, in any script, mixed with native names and {name, style} objects", async () => {
    const { ack, speakers } = await discussion({
      data: {
        topic: "naming",
        participants: ["optimist", { name: "Ärztin", style: "careful" }, "مهندس", "__proto__"],
        rounds: 1,
      },
    });
    expect(ack.ok, JSON.stringify(ack)).to.equal(true);
    expect(speakers).to.deep.equal(["optimist", "Ärztin", "مهندس", "__proto__"]);
    expect(({} as Record<string, unknown>)["polluted"]).to.equal(undefined);
  });

  it("lets data win over a top-level field, and keeps a client's own message_id", async () => {
    const { ack, speakers } = await discussion({
      topic: "ignored",
      rounds: 5,
      data: { topic: "tea", participants: ["Tea", "Coffee"], rounds: 1, message_id: "gc-1" },
      timestamp: new Date().toISOString(),
    });
    expect(ack).to.deep.include({ ok: true });
    expect((ack as { data: Record<string, unknown> }).data).to.include({ message_id: "gc-1" });
    expect(speakers).to.deep.equal(["Tea", "Coffee"]);
  });

  const refused: Array<[string, unknown]> = [
    ["a name with a control character", ["Architect", "Bad\u0007name"]],
    ["a name with a right-to-left override", ["Architect", "evil\u202Eeman"]],
    ["a name of 65 characters", ["Architect", "名".repeat(65)]],
    ["a name of only spaces", ["Architect", "   "]],
    ["an empty name", ["Architect", ""]],
    ["the same name twice", ["架构师", "架构师"]],
    ["a participant with a field of its own", ["Architect", { name: "Tester", admin: true }]],
    ["a participant that is a number", ["Architect", 7]],
    ["seven participants", ["a", "b", "c", "d", "e", "f", "g"].map((n) => n.toUpperCase())],
    ["one participant", ["架构师"]],
    ["participants that are not a list", "Architect, Tester"],
  ];
  for (const [what, participants] of refused) {
    it(`refuses ${what} with invalid_payload, and the connection stays`, async () => {
      const { socket } = await connect(server.url, { dialect: "group-chat" });
      const ack = await request(socket, "start_conversation", {
        data: { topic: "t", participants, rounds: 1 },
      });
      expect(!ack.ok && ack.error.code, JSON.stringify(ack)).to.equal("invalid_payload");
      expect((await request(socket, "ping", {})).ok).to.equal(true);
      socket.close();
    });
  }
});
