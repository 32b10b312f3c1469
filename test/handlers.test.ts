import { expect } from "chai";
import {
  connect,
  nextEvent,
  recordEvents,
  request,
  startGateway,
  startGatewayWithHandler,
  type RunningGateway,
} from "./support/gateway.js";
import { closeOf, connectAs, TRANSPORTS } from "./support/clients.js";
import { waitFor } from "./support/wait-for.js";

for (const transport of TRANSPORTS) {
  describe(`core handlers over ${transport}`, () => {
    let server: RunningGateway;
    before(async () => {
      server = await startGateway();
    });
    after(() => server.close());

    it("connects with a new session and announces the heartbeat", async () => {
      const { socket, connected } = await connectAs(transport, server.url);
      expect(connected.session_id).to.match(/^[0-9a-f-]{36}$/);
      expect(connected.connection_id).to.match(/^[\w-]{16,}$/);
      expect(connected.heartbeat).to.deep.equal({ interval_ms: 30000, timeout_ms: 60000 });
      socket.close();
    });

    it("answers ping with pong, carrying type and timestamp", async () => {
      const { socket } = await connectAs(transport, server.url);
      const pong = nextEvent<{ type: string; timestamp: number }>(socket, "pong");
      const before = Date.now() / 1000;
      expect(await request(socket, "ping", {})).to.deep.equal({ ok: true, data: {} });
      const event = await pong;
      expect(event.type).to.equal("pong");
      expect(event.timestamp).to.be.within(before - 1, Date.now() / 1000 + 1);
      socket.close();
    });

    it("accepts ping without payload or ack, as the earlier systems' clients send it", async () => {
      const { socket } = await connectAs(transport, server.url);
      const pong = nextEvent(socket, "pong");
      socket.emit("ping");
      expect((await pong)["type"]).to.equal("pong");
      socket.close();
    });
  });
}

describe("tools over tool_call", () => {
  let server: RunningGateway;
  before(async () => {
    server = await startGateway();
  });
  after(() => server.close());

  it("computes 123 + 456 = 579 and emits tool_result", async () => {
    const { socket } = await connect(server.url);
    const result = nextEvent(socket, "tool_result");
    const ack = await request(socket, "tool_call", {
      tool_name: "calculator",
      params: { expression: "123 + 456" },
    });
    expect(ack).to.deep.equal({ ok: true, data: { tool_name: "calculator", result: 579 } });
    expect(await result).to.deep.include({
      type: "tool_result",
      tool_name: "calculator",
      result: 579,
    });
    socket.close();
  });

  const expressions: Array<[string, number]> = [
    ["12 * (3 + 4)", 84],
    ["2 ^ 10 % 7", 2],
    ["-1.5 * 4", -6],
    ["sqrt(16) + max(1, 2) + round(2.5)", 9],
    ["10 / 4", 2.5],
  ];
  for (const [expression, expected] of expressions) {
    it(`calculates ${expression} = ${expected}`, async () => {
      const { socket } = await connect(server.url);
      const ack = await request(socket, "tool_call", {
        tool_name: "calculator",
        params: { expression },
      });
      expect(ack).to.deep.equal({ ok: true, data: { tool_name: "calculator", result: expected } });
      socket.close();
    });
  }

  const refused: Array<[unknown, RegExp]> = [
    [{ expression: "1 / 0" }, /Division by zero/],
    [{ expression: "2 +* 3" }, /Cannot parse/],
    [{ expression: "constructor" }, /Unknown name "constructor"/],
    [{ expression: "'text'" }, /Only numbers/],
    [{ expression: "f(x) = 1" }, /is not arithmetic/],
    [{ expression: "import('fs')" }, /.+/],
    [{}, /Invalid parameters/],
    [{ expression: "1", extra: true }, /Invalid parameters/],
  ];
  for (const [params, message] of refused) {
    it(`refuses calculator params ${JSON.stringify(params)} with invalid_params`, async () => {
      const { socket } = await connect(server.url);
      const error = nextEvent<{ code: string; request_type: string }>(socket, "error");
      const ack = await request(socket, "tool_call", { tool_name: "calculator", params });
      expect(ack.ok).to.equal(false);
      expect(!ack.ok && ack.error.code).to.equal("invalid_params");
      expect(!ack.ok && ack.error.message).to.match(message);
      expect(await error).to.deep.include({ code: "invalid_params", request_type: "tool_call" });
      expect(socket.connected).to.equal(true);
      socket.close();
    });
  }

  it("tells the time, in a named IANA zone, and refuses an unknown zone", async () => {
    const { socket } = await connect(server.url);
    const ack = await request(socket, "tool_call", {
      tool_name: "current_time",
      params: { timezone: "Asia/Tokyo" },
    });
    const result = (ack as { data: { result: { timezone: string; iso: string; unix: number } } })
      .data.result;
    expect(result.timezone).to.equal("Asia/Tokyo");
    expect(Math.abs(result.unix - Date.now() / 1000)).to.be.lessThan(5);
    const utc = await request(socket, "tool_call", { tool_name: "current_time", params: {} });
    expect((utc as { data: { result: { timezone: string } } }).data.result.timezone).to.equal(
      "UTC",
    );
    const bad = await request(socket, "tool_call", {
      tool_name: "current_time",
      params: { timezone: "Mars/Base" },
    });
    expect(!bad.ok && bad.error.code).to.equal("invalid_params");
    socket.close();
  });

  it("answers unknown_tool for a tool that does not exist", async () => {
    const { socket } = await connect(server.url);
    const ack = await request(socket, "tool_call", { tool_name: "rm_rf", params: {} });
    expect(!ack.ok && ack.error.code).to.equal("unknown_tool");
    expect(!ack.ok && ack.error.message).to.include("calculator");
    socket.close();
  });
});

for (const transport of TRANSPORTS) {
  describe(`projects over ${transport}`, () => {
    let server: RunningGateway;
    before(async () => {
      server = await startGateway();
    });
    after(() => server.close());

    it("counts members, broadcasts feedback to the room only, and leaves", async () => {
      const a = await connectAs(transport, server.url);
      const b = await connectAs(transport, server.url);
      const outsider = await connectAs(transport, server.url);
      expect(await request(a.socket, "join_project", { project_id: "p1" })).to.deep.equal({
        ok: true,
        data: { project_id: "p1", members: 1 },
      });
      const joined = nextEvent(b.socket, "joined_project");
      await request(b.socket, "join_project", { project_id: "p1" });
      expect(await joined).to.deep.include({ project_id: "p1", members: 2 });

      const outsiderEvents = recordEvents(outsider.socket);
      const atB = nextEvent(b.socket, "project_message");
      const response = nextEvent(a.socket, "user_feedback_response");
      await request(a.socket, "user_feedback", { project_id: "p1", content: "looks good" });
      expect(await response).to.deep.include({ status: "received", project_id: "p1" });
      const message = await atB;
      expect(message).to.deep.include({ type: "project_message", project_id: "p1" });
      expect(message["data"]).to.deep.include({ kind: "user_feedback", content: "looks good" });

      const left = nextEvent(b.socket, "left_project");
      await request(b.socket, "leave_project", { project_id: "p1" });
      expect(await left).to.deep.include({ project_id: "p1", members: 1 });
      await request(outsider.socket, "ping", {});
      expect(outsiderEvents.map((e) => e.type)).to.deep.equal(["pong"]);
      for (const c of [a, b, outsider]) c.socket.close();
    });

    it("refuses feedback and leaving for a project not joined", async () => {
      const { socket } = await connectAs(transport, server.url);
      const feedback = await request(socket, "user_feedback", { project_id: "p2", content: "hi" });
      expect(!feedback.ok && feedback.error.code).to.equal("not_in_project");
      const leave = await request(socket, "leave_project", { project_id: "p2" });
      expect(!leave.ok && leave.error.code).to.equal("not_in_project");
      socket.close();
    });

    it("drops a disconnected client from the member count", async () => {
      const a = await connectAs(transport, server.url);
      const b = await connectAs(transport, server.url);
      await request(a.socket, "join_project", { project_id: "p3" });
      await request(b.socket, "join_project", { project_id: "p3" });
      b.socket.close();
      await waitFor(async () => (await server.gateway.state.projects.members("p3")) === 1);
      const c = await connectAs(transport, server.url);
      expect(await request(c.socket, "join_project", { project_id: "p3" })).to.deep.include({
        ok: true,
      });
      expect(await server.gateway.state.projects.members("p3")).to.equal(2);
      a.socket.close();
      c.socket.close();
    });
  });
}

for (const transport of TRANSPORTS) {
  describe(`ack order over ${transport}`, () => {
    let server: RunningGateway;
    before(async () => {
      server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0" });
    });
    after(() => server.close());

    it("answers a message's ack before any event of its stream, with a zero-delay model", async () => {
      const { socket } = await connectAs(transport, server.url);
      try {
        for (let turn = 0; turn < 5; turn += 1) {
          const seen: string[] = [];
          const listener = (type: string) => seen.push(type);
          socket.onAny(listener);
          const ended = nextEvent(socket, "stream_end");
          socket.emit("message", { content: `turn ${turn}` }, (reply: { ok: boolean }) =>
            seen.push(reply.ok ? "ack" : "refused"),
          );
          await ended;
          socket.offAny(listener);
          expect(seen[0], `turn ${turn}: ${seen.slice(0, 3).join(", ")}`).to.equal("ack");
          expect(seen).to.include("stream_start");
        }
      } finally {
        socket.close();
      }
    });
  });
}

for (const transport of TRANSPORTS) {
  describe(`refusals that keep the connection over ${transport}`, () => {
    let server: RunningGateway;
    before(async () => {
      // A frame cap above the message cap: message_too_large is the refusal between the two.
      server = await startGateway({
        WS_MAX_MESSAGE_BYTES: "2048",
        WS_MAX_FRAME_BYTES: "65536",
        WS_RATE_LIMIT_PER_SEC: "20",
      });
    });
    after(() => server.close());

    it("answers unknown_type, also as an error event for ack-less clients", async () => {
      const { socket } = await connectAs(transport, server.url);
      const error = nextEvent(socket, "error");
      socket.emit("teleport", { where: "moon" });
      expect(await error).to.deep.include({
        type: "error",
        code: "unknown_type",
        request_type: "teleport",
      });
      const ack = await request(socket, "teleport", {});
      expect(!ack.ok && ack.error.code).to.equal("unknown_type");
      expect((await request(socket, "ping", {})).ok).to.equal(true);
      socket.close();
    });

    it("answers invalid_payload naming the field, with the validator's details in the ack and the event", async () => {
      const { socket } = await connectAs(transport, server.url);
      const error = nextEvent<Record<string, unknown>>(socket, "error");
      const ack = await request(socket, "join_project", { project_id: 42 });
      expect(!ack.ok && ack.error.code).to.equal("invalid_payload");
      expect(!ack.ok && ack.error.message).to.equal(
        'Invalid payload for "join_project": /project_id must be string',
      );
      expect(await error).to.deep.include({
        code: "invalid_payload",
        request_type: "join_project",
        message: 'Invalid payload for "join_project": /project_id must be string',
        details: !ack.ok && ack.error.details,
      });
      const unknown = await request(socket, "ping", { ["x".repeat(1500)]: 1 });
      expect(!unknown.ok && unknown.error.message)
        .to.match(/^Invalid payload for "ping": the payload has unknown property "x+…$/)
        .and.have.length.below(300);
      expect(!ack.ok && ack.error.details).to.deep.include({
        path: "/project_id",
        message: "must be string",
        params: { type: "string" },
      });
      const notAnObject = await request(socket, "join_project", "p1");
      expect(!notAnObject.ok && notAnObject.error.code).to.equal("invalid_payload");
      socket.close();
    });

    it("refuses a message over WS_MAX_MESSAGE_BYTES with message_too_large, and goes on", async () => {
      const { socket } = await connectAs(transport, server.url);
      const ack = await request(socket, "user_feedback", {
        project_id: "p",
        content: "é".repeat(1500),
      });
      expect(!ack.ok && ack.error.code).to.equal("message_too_large");
      expect(!ack.ok && ack.error.details).to.deep.include({ limit_bytes: 2048 });
      expect(socket.connected).to.equal(true);
      expect((await request(socket, "ping", {})).ok).to.equal(true);
      socket.close();
    });

    it("rate-limits a flooding connection with rate_limited, without affecting others", async () => {
      const flooder = await connectAs(transport, server.url);
      const other = await connectAs(transport, server.url);
      const error = nextEvent<Record<string, unknown>>(flooder.socket, "error");
      const requests = Array.from({ length: 40 }, () => request(flooder.socket, "ping", {}));
      const admitted = await Promise.all(requests.slice(0, 20));
      expect(admitted.every((a) => a.ok)).to.equal(true);
      expect(await error).to.deep.include({ code: "rate_limited", request_type: "ping" });
      // Over plain WebSocket a frame over the budget is dropped before JSON.parse: its
      // request_id is never read, so only Socket.IO answers each refused one.
      // (What the server reads only after its pause falls in the next second's budget.)
      if (transport === "socketio") {
        const rest = await Promise.all(requests.slice(20));
        expect(rest.filter((a) => !a.ok).length).to.be.above(0);
        expect(rest.every((a) => a.ok || a.error.code === "rate_limited")).to.equal(true);
      }
      expect((await request(other.socket, "ping", {})).ok).to.equal(true);
      expect(flooder.socket.connected).to.equal(true);
      flooder.socket.close();
      other.socket.close();
    });
  });
}

/** Waits on its signal, then says why it stopped: a handler whose work must end with the call. */
const STOPS_ON_SIGNAL_HANDLER = `import { defineHandler, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "wait_for_signal",
  description: "Works until its signal fires, then reports the reason.",
  schema: Type.Object({}),
  timeoutMs: 100,
  async handle(_payload, ctx) {
    const signal = ctx.signal;
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    ctx.emit("progress_update", { data: { stopped_by: String(signal.reason?.code) } });
    return {};
  },
});
`;

for (const transport of TRANSPORTS) {
  describe(`every request answered once over ${transport}`, () => {
    let server: RunningGateway;
    before(async () => {
      server = await startGatewayWithHandler("wait_for_signal.ts", STOPS_ON_SIGNAL_HANDLER);
    });
    after(() => server.close());

    it("aborts the signal of a handler that timed out, so its work stops", async () => {
      const { socket } = await connectAs(transport, server.url);
      const stopped = nextEvent<{ data: { stopped_by: string } }>(socket, "progress_update");
      const ack = await request(socket, "wait_for_signal", {});
      expect(!ack.ok && ack.error.code).to.equal("timeout");
      expect((await stopped).data.stopped_by).to.equal("timeout");
      expect(socket.connected).to.equal(true);
      socket.close();
    });
  });

  describe(`a flooder cut off over ${transport}`, () => {
    let server: RunningGateway;
    before(async () => {
      server = await startGateway({
        WS_RATE_LIMIT_PER_SEC: "5",
        WS_RATE_LIMIT_DISCONNECT_AFTER: "0.5",
      });
    });
    after(() => server.close());

    it("still gets an answer to the ack it was waiting for", async () => {
      const { socket } = await connectAs(transport, server.url);
      const closed = closeOf(socket);
      let open = true;
      void closed.then(() => (open = false));
      let waiting = 0;
      let cutOff = false;
      const answers: string[] = [];
      // One event at a time, until an answer says the connection is cut off.
      while (open && !cutOff) {
        waiting += 1;
        type Reply = { ok: boolean; error?: { code: string; message: string } };
        const answered = new Promise<void>((resolve) =>
          socket.emit("ping", {}, (reply: Reply) => {
            waiting -= 1;
            answers.push(reply.ok ? "ok" : String(reply.error?.code));
            cutOff = /disconnected/.test(reply.error?.message ?? "");
            resolve();
          }),
        );
        await Promise.race([answered, closed]);
      }
      await closed;
      expect(cutOff, "the last answer says why the connection ends").to.equal(true);
      expect(answers).to.include("ok").and.include("rate_limited");
      expect(waiting, "acks never answered").to.equal(0);
    });
  });
}
