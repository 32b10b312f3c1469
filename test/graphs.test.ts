import { expect } from "chai";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { loadConfig } from "../src/core/config.js";
import { createGateway } from "../src/gateway.js";
import {
  connectAs,
  refusalAs,
  TRANSPORTS,
  type ConnectedClient,
  type TestClient,
} from "./support/clients.js";
import {
  recordEvents,
  request,
  startGatewayWithGraphs,
  type RunningGateway,
} from "./support/gateway.js";

type Events = ReturnType<typeof recordEvents>;

/** Every event each client has received, from its connection on. */
const received = new WeakMap<TestClient, Events>();

/**
 * Resolves with the first event of `type` for `messageId`, whether it came
 * already (a fast graph can finish before the ack) or comes later.
 */
function eventFor(socket: TestClient, type: string, messageId: string) {
  const seen = received
    .get(socket)
    ?.find((e) => e.type === type && e.payload["message_id"] === messageId);
  if (seen) return Promise.resolve(seen.payload);
  return new Promise<Record<string, unknown>>((resolve) => {
    const listener = (payload: Record<string, unknown>) => {
      if (payload["message_id"] !== messageId) return;
      socket.off(type, listener);
      resolve(payload);
    };
    socket.on(type, listener);
  });
}

/** A message with a client-chosen id, so listeners can be set before the ack (which may follow the stream). */
async function send(socket: TestClient, payload: Record<string, unknown>) {
  const id = randomUUID();
  const ack = await request(socket, "message", { ...payload, message_id: id });
  return { ack, id };
}

const typesOf = (events: Events, messageId: string) =>
  events.filter((e) => e.payload["message_id"] === messageId).map((e) => e.type);

describe("graphs as plugins", function () {
  this.timeout(30000);
  let server: RunningGateway;
  const clients: ConnectedClient[] = [];
  before(async () => {
    server = await startGatewayWithGraphs(
      ["support_desk.ts", "broken_node.ts", "two_questions.ts"],
      {
        DEMO_TOKEN_DELAY_MS: "0",
        // Every client here comes from 127.0.0.1: its address's share (WS_RATE_LIMIT_SHARE_ADDRESS)
        // would refuse these tests' bursts once earlier tests' connections count.
        WS_RATE_LIMIT_PER_USER_PER_SEC: "2000",
      },
    );
  });
  afterEach(() => {
    for (const { socket } of clients.splice(0)) socket.close();
  });
  after(() => server.close());

  async function open(transport: (typeof TRANSPORTS)[number], auth = {}) {
    const client = await connectAs(transport, server.url, auth);
    received.set(client.socket, recordEvents(client.socket));
    clients.push(client);
    return client;
  }

  it("lists every graph with its description and state keys, the default marked", async () => {
    const { graphs } = (await (await fetch(`${server.url}/api/graphs`)).json()) as {
      graphs: Array<{ name: string; description: string; input_keys: string[]; default: boolean }>;
    };
    const byName = new Map(graphs.map((g) => [g.name, g]));
    expect([...byName.keys()]).to.have.members([
      "agent",
      "approval",
      "broken_node",
      "discussion",
      "support_desk",
      "two_questions",
    ]);
    expect(byName.get("agent")).to.deep.include({ default: true, input_keys: ["messages"] });
    expect(byName.get("support_desk")?.description).to.match(/^Triage a support request/);
    expect(byName.get("discussion")?.input_keys).to.include.members(["topic", "turns"]);
    expect(byName.get("two_questions")?.input_keys).to.have.members(["messages", "answers"]);
  });

  for (const transport of TRANSPORTS) {
    describe(`over ${transport}`, () => {
      it("refuses an unknown graph by name, in a message and at connection", async () => {
        const { socket } = await open(transport);
        const refused = await request(socket, "message", { content: "hi", graph: "no_such" });
        expect(refused.ok).to.equal(false);
        const error = (refused as { error: { code: string; message: string } }).error;
        expect(error.code).to.equal("unknown_graph");
        expect(error.message).to.contain('"no_such"').and.contain("support_desk");
        const handshake = await refusalAs(transport, server.url, { graph: "missing_graph" });
        expect(handshake.code).to.equal("unknown_graph");
        expect(handshake.message).to.contain("missing_graph");
      });

      it("streams a third-party graph: subgraph reply as a chunk, custom events, then an interrupt and no stream_end", async () => {
        const { socket } = await open(transport);
        const events = received.get(socket) ?? [];
        const { ack, id } = await send(socket, {
          content: "I was charged twice on my invoice",
          graph: "support_desk",
        });
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
        const paused = await eventFor(socket, "run_interrupted", id);
        expect(paused["graph"]).to.equal("support_desk");
        const interrupts = paused["interrupts"] as Array<{ id: string; value: unknown }>;
        expect(interrupts).to.have.length(1);
        expect(interrupts[0]?.value).to.deep.equal({ question: "Escalate to a person?" });
        expect(typesOf(events, id)).to.not.include("stream_end");
        const start = events.find((e) => e.type === "stream_start")?.payload;
        expect(start).to.deep.include({ graph: "support_desk", kind: "chat" });
        const custom = events.filter((e) => e.type === "custom_event").map((e) => e.payload);
        expect(custom.map((c) => [c["name"], c["data"]])).to.deep.equal([
          ["classified", { category: "billing" }],
          [null, { step: "classified", category: "billing" }],
        ]);
        for (const c of custom) expect(c["namespace"]).to.be.an("array").with.length(1);
        const chunks = events.filter((e) => e.type === "stream_chunk").map((e) => e.payload);
        expect(chunks.map((c) => c["content"]).join("")).to.equal(
          "This looks like a billing question.",
        );
        expect(chunks[0]?.["agent"]).to.equal("classify");
        expect((chunks[0]?.["namespace"] as string[])[0]).to.match(/^triage:/);
        const seqs = events
          .filter((e) => e.payload["seq"] !== undefined)
          .map((e) => e.payload["seq"] as number);
        expect(seqs).to.deep.equal(seqs.map((_, i) => i + 1));
      });

      it("is resumed from a second connection of the other transport, which gets the reply in stream_end", async () => {
        const session_id = `resume-${transport}-${randomUUID()}`;
        const first = await open(transport, { session_id });
        const other = transport === "ws" ? "socketio" : "ws";
        const second = await open(other, { session_id });
        const { ack, id } = await send(first.socket, {
          content: "refund please",
          graph: "support_desk",
        });
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
        await eventFor(second.socket, "run_interrupted", id);
        const firstEnd = eventFor(first.socket, "stream_end", id);
        const resumed = await request(second.socket, "resume_run", {
          message_id: id,
          resume: true,
        });
        expect(resumed).to.deep.equal({ ok: true, data: { message_id: id, queue_position: 0 } });
        expect((await firstEnd)["total_content"]).to.equal("Escalated to a person.");
        await eventFor(second.socket, "stream_end", id);
        const starts = (received.get(second.socket) ?? []).filter(
          (e) => e.type === "stream_start" && e.payload["message_id"] === id,
        );
        expect(starts.map((e) => e.payload["resumed"])).to.deep.equal([undefined, true]);
        const again = await request(first.socket, "resume_run", { message_id: id, resume: false });
        expect(again).to.deep.include({ ok: false });
        expect((again as { error: { code: string } }).error.code).to.equal("not_interrupted");
      });

      it("runs a resume once when two clients send it at the same moment", async () => {
        const session_id = `double-${transport}-${randomUUID()}`;
        const a = await open(transport, { session_id });
        const b = await open(transport, { session_id });
        const events = received.get(a.socket) ?? [];
        const { ack, id } = await send(a.socket, { content: "hello", graph: "support_desk" });
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
        await eventFor(a.socket, "run_interrupted", id);
        const ended = eventFor(a.socket, "stream_end", id);
        const answers = await Promise.all([
          request(a.socket, "resume_run", { message_id: id, resume: true }),
          request(b.socket, "resume_run", { message_id: id, resume: false }),
        ]);
        const end = await ended;
        // One resume is accepted at once; the other is refused, or queued and then refused
        // once the first has answered the interrupt. Either way the graph went on once.
        const late = await Promise.race([
          eventFor(a.socket, "error", id),
          new Promise((resolve) => setImmediate(resolve, null)),
        ]);
        const refusedNow = answers.filter((a) => !a.ok).length;
        expect(refusedNow + (late ? 1 : 0)).to.be.at.most(1);
        expect(typesOf(events, id).filter((t) => t === "stream_end")).to.have.length(1);
        expect(["Escalated to a person.", "Closed without escalation."]).to.include(
          end["total_content"],
        );
        const history = await request(a.socket, "get_history", { graph: "support_desk" });
        const messages = (history as { data: { messages: Array<{ content: string }> } }).data
          .messages;
        expect(messages.filter((m) => /escalat/i.test(m.content))).to.have.length(1);
      });

      it("answers not_interrupted for a run that never paused and for a stranger's message id", async () => {
        const { socket } = await open(transport);
        const { ack, id } = await send(socket, { content: "2+2?" });
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
        await eventFor(socket, "stream_end", id);
        for (const message_id of [id, "never-sent"]) {
          const refused = await request(socket, "resume_run", { message_id, resume: true });
          expect((refused as { error: { code: string } }).error.code).to.equal("not_interrupted");
        }
      });

      it("resumes several interrupts at once with {<interrupt id>: answer}, and refuses a bare answer", async () => {
        const { socket } = await open(transport);
        const { ack, id } = await send(socket, { content: "start", graph: "two_questions" });
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
        const paused = await eventFor(socket, "run_interrupted", id);
        const interrupts = paused["interrupts"] as Array<{ id: string; value: string }>;
        expect(interrupts.map((i) => i.value).sort()).to.deep.equal(["Your city?", "Your name?"]);
        const bare = await request(socket, "resume_run", { message_id: id, resume: "Ada" });
        expect((bare as { error: { code: string; message: string } }).error).to.deep.include({
          code: "invalid_payload",
        });
        const answers = Object.fromEntries(
          interrupts.map((i) => [i.id, i.value === "Your name?" ? "Ada" : "Paris"]),
        );
        const ended = eventFor(socket, "stream_end", id);
        const resumed = await request(socket, "resume_run", { message_id: id, resume: answers });
        expect(resumed.ok).to.equal(true);
        expect((await ended)["total_content"]).to.equal("city=Paris, name=Ada");
      });

      it("names the failing node in agent_error and keeps serving the session", async () => {
        const { socket } = await open(transport);
        const { ack, id } = await send(socket, { content: "pay", graph: "broken_node" });
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
        const failed = await eventFor(socket, "error", id);
        expect(failed["code"]).to.equal("agent_error");
        expect(failed["message"])
          .to.contain('node "charge_card"')
          .and.contain("payment service is down");
        const { id: nextId } = await send(socket, { content: "and now?" });
        const answer = (await eventFor(socket, "stream_end", nextId))["total_content"];
        expect(answer).to.be.a("string").with.length.greaterThan(0);
      });

      it("returns the conversation from get_history in pages, with the run waiting for a resume", async () => {
        const session_id = `history-${transport}-${randomUUID()}`;
        const { socket } = await open(transport, { session_id });
        for (const content of ["one", "two", "three"]) {
          const ack = await request(socket, "message", { content });
          await eventFor(
            socket,
            "stream_end",
            (ack as { data: { message_id: string } }).data.message_id,
          );
        }
        const all = (await request(socket, "get_history", {})) as {
          data: {
            graph: string;
            messages: Array<{ id: string; role: string; content: string }>;
            has_more: boolean;
          };
        };
        expect(all.data.graph).to.equal("agent");
        expect(all.data.has_more).to.equal(false);
        expect(
          all.data.messages.filter((m) => m.role === "user").map((m) => m.content),
        ).to.deep.equal(["one", "two", "three"]);
        expect(all.data.messages.filter((m) => m.role === "assistant")).to.have.length(3);
        const newest = (await request(socket, "get_history", { limit: 2 })) as typeof all;
        expect(newest.data.messages).to.deep.equal(all.data.messages.slice(-2));
        expect(newest.data.has_more).to.equal(true);
        const older = (await request(socket, "get_history", {
          limit: 2,
          before: newest.data.messages[0]?.id,
        })) as typeof all;
        expect(older.data.messages).to.deep.equal(all.data.messages.slice(-4, -2));
        const tooMany = await request(socket, "get_history", { limit: 101 });
        expect((tooMany as { error: { code: string } }).error.code).to.equal("invalid_payload");
        const unknownBefore = await request(socket, "get_history", { before: "nope" });
        expect((unknownBefore as { error: { code: string } }).error.code).to.equal("not_found");

        const { ack, id } = await send(socket, { content: "help", graph: "support_desk" });
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
        await eventFor(socket, "run_interrupted", id);
        const desk = (await request(socket, "get_history", { graph: "support_desk" })) as {
          data: { messages: Array<{ role: string }>; interrupted: { message_id: string } };
        };
        expect(desk.data.messages.map((m) => m.role)).to.deep.equal(["user", "assistant"]);
        expect(desk.data.interrupted.message_id).to.equal(id);
      });

      it("sends state_update only to the connections that asked, with the message or at connection", async () => {
        const session_id = `updates-${transport}-${randomUUID()}`;
        const asker = await open(transport, { session_id });
        const silent = await open(transport, { session_id });
        const subscriber = await open(transport, { session_id, stream_modes: ["updates"] });
        const seen = [asker, silent, subscriber].map(({ socket }) => received.get(socket) ?? []);
        const { ack, id } = await send(asker.socket, {
          content: "what time is it?",
          stream_modes: ["updates"],
        });
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
        await Promise.all(
          [asker, silent, subscriber].map(({ socket }) => eventFor(socket, "stream_end", id)),
        );
        const updates = seen.map((events) =>
          events.filter((e) => e.type === "state_update").map((e) => e.payload["node"]),
        );
        expect(updates[0]).to.deep.equal(["agent", "tools", "agent"]);
        expect(updates[1]).to.deep.equal([]);
        expect(updates[2]).to.deep.equal(["agent", "tools", "agent"]);
        const first = seen[0]?.find((e) => e.type === "state_update")?.payload;
        const update = first?.["update"] as {
          messages: Array<{ role: string; tool_calls: unknown[] }>;
        };
        expect(update.messages[0]?.role).to.equal("assistant");
        expect(update.messages[0]?.tool_calls).to.have.length(1);
        const refused = await request(asker.socket, "message", {
          content: "x",
          stream_modes: ["values"],
        });
        expect((refused as { error: { code: string } }).error.code).to.equal("invalid_payload");
      });

      it("runs the session's graph from auth.graph when a message names none", async () => {
        const { socket } = await open(transport, { graph: "support_desk" });
        const { ack, id } = await send(socket, { content: "a question" });
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
        expect((await eventFor(socket, "run_interrupted", id))["graph"]).to.equal("support_desk");
      });
    });
  }

  it("refuses a resume past AGENT_INTERRUPT_TTL with interrupt_expired", async () => {
    const short = await startGatewayWithGraphs(["support_desk.ts"], {
      AGENT_INTERRUPT_TTL: "0.001",
    });
    try {
      const { socket } = await connectAs("socketio", short.url);
      received.set(socket, recordEvents(socket));
      const { ack, id } = await send(socket, { content: "hi", graph: "support_desk" });
      expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      await eventFor(socket, "run_interrupted", id);
      const refused = await request(socket, "resume_run", { message_id: id, resume: true });
      expect((refused as { error: { code: string } }).error.code).to.equal("interrupt_expired");
      socket.close();
    } finally {
      await short.close();
    }
  });

  it("stops the start-up naming a graph file that does not export a graph", async () => {
    const config = loadConfig({ HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "error" });
    const graphsDir = path.resolve("test/fixtures/bad-graphs");
    let failure: unknown;
    await createGateway({ config, graphsDir }).then(
      (gateway) => gateway.close(),
      (error: unknown) => (failure = error),
    );
    expect(String(failure))
      .to.contain(path.join(graphsDir, "not_a_graph.ts"))
      .and.contain("is not a graph");
  });
});
