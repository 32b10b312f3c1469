import { expect } from "chai";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Translator } from "../../src/dialects/index.js";
import { dialectFor } from "../../src/dialects/index.js";
import {
  connect,
  nextEvent,
  OPERATOR_KEY,
  request,
  startGateway,
  type RunningGateway,
} from "../support/gateway.js";

const autocode = dialectFor("autocode");
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the AutoCode client sends, through its translator, to the real gateway. */
function send(socket: ClientSocket, translator: Translator, envelope: Record<string, unknown>) {
  const native = translator.inbound(String(envelope["type"]), envelope);
  return request(socket, native.type, native.payload);
}

/** The next native event of this type, as this client's translator shows it. */
async function nextFrame(socket: ClientSocket, translator: Translator, type: string) {
  const payload = await nextEvent(socket, type);
  const frames = translator.outbound(type, payload);
  expect(frames).to.have.length(1);
  return frames[0]!.payload;
}

describe("dialect autocode (the AutoCode project-room protocol, its message format)", function () {
  this.timeout(30000);
  let server: RunningGateway;
  before(async () => {
    // Every client here comes from 127.0.0.1: an address share of the default 200 a second
    // would refuse the 40-event burst below once earlier tests' connections count.
    server = await startGateway({ API_KEY: OPERATOR_KEY, WS_RATE_LIMIT_PER_USER_PER_SEC: "2000" });
  });
  after(() => server.close());

  it("joins with projectGuid and answers in the {type, projectGuid, data, timestamp, id} envelope", async () => {
    const { socket } = await connect(server.url);
    const translator = autocode.createTranslator({ sessionId: "s" });
    const joined = nextFrame(socket, translator, "joined_project");
    const ack = await send(socket, translator, {
      type: "join_project",
      projectGuid: "proj-1",
      data: {},
      timestamp: new Date().toISOString(),
      id: "c-1",
    });
    expect(ack).to.deep.equal({ ok: true, data: { project_id: "proj-1", members: 1 } });
    const frame = await joined;
    expect(frame).to.include({ type: "joined_project", projectGuid: "proj-1" });
    expect(frame["data"]).to.deep.equal({ members: 1 });
    expect(frame["timestamp"]).to.match(ISO);
    expect(frame["id"]).to.match(UUID);
    socket.close();
  });

  it("sends user_feedback with its content under data, and the room's project_message arrives enveloped", async () => {
    const { socket } = await connect(server.url);
    const translator = autocode.createTranslator({ sessionId: "s" });
    await send(socket, translator, { type: "join_project", projectGuid: "proj-2", data: {} });
    const response = nextFrame(socket, translator, "user_feedback_response");
    const message = nextFrame(socket, translator, "project_message");
    const ack = await send(socket, translator, {
      type: "user_feedback",
      projectGuid: "proj-2",
      data: { content: "the login page is slow" },
    });
    expect(ack.ok).to.equal(true);
    expect(await response).to.deep.include({
      type: "user_feedback_response",
      projectGuid: "proj-2",
      data: { status: "received" },
    });
    const pushed = await message;
    expect(pushed).to.include({ type: "project_message", projectGuid: "proj-2" });
    expect(pushed["data"]).to.include({ kind: "user_feedback", content: "the login page is slow" });
    socket.close();
  });

  it("delivers the four project pushes in the envelope, their data unchanged", async () => {
    const { socket } = await connect(server.url);
    const translator = autocode.createTranslator({ sessionId: "s" });
    await send(socket, translator, { type: "join_project", projectGuid: "proj-3", data: {} });
    for (const type of [
      "project_stage_update",
      "project_message",
      "project_status_change",
      "agent_message",
    ]) {
      const arrived = nextFrame(socket, translator, type);
      const data = { stage: "review", note: `a ${type}` };
      const posted = await fetch(`${server.url}/api/projects/proj-3/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${OPERATOR_KEY}` },
        body: JSON.stringify({ type, data }),
      });
      expect(posted.status).to.equal(202);
      const frame = await arrived;
      expect(frame).to.include({ type, projectGuid: "proj-3" });
      expect(frame["data"]).to.deep.equal(data);
    }
    socket.close();
  });

  it("sends project_update with the envelope's data as the update", async () => {
    const { socket } = await connect(server.url);
    const translator = autocode.createTranslator({ sessionId: "s" });
    await send(socket, translator, { type: "join_project", projectGuid: "proj-4", data: {} });
    const message = nextFrame(socket, translator, "project_message");
    const ack = await send(socket, translator, {
      type: "project_update",
      projectGuid: "proj-4",
      data: { stage: "build" },
    });
    expect(ack.ok).to.equal(true);
    expect((await message)["data"]).to.include({ kind: "project_update", stage: "build" });
    socket.close();
  });

  it("lets projectGuid win over a project_id smuggled in data, and keeps __proto__ as plain data (refused by the closed schema)", async () => {
    const { socket } = await connect(server.url);
    const translator = autocode.createTranslator({ sessionId: "s" });
    const hostile = JSON.parse(
      '{"type":"join_project","projectGuid":"proj-5","data":{"project_id":"someone-else","__proto__":{"polluted":true}}}',
    ) as Record<string, unknown>;
    const native = translator.inbound("join_project", hostile);
    expect(Object.getPrototypeOf(native.payload)).to.equal(Object.prototype);
    expect(({} as Record<string, unknown>)["polluted"]).to.equal(undefined);
    // Handler schemas are closed: the smuggled key is refused by name, never merged into anything.
    const refused = await send(socket, translator, hostile);
    expect(!refused.ok && refused.error.code).to.equal("invalid_payload");
    expect(JSON.stringify(refused)).to.include("__proto__");
    const ack = await send(socket, translator, {
      type: "join_project",
      projectGuid: "proj-5",
      data: { project_id: "someone-else" },
    });
    expect(ack).to.deep.equal({ ok: true, data: { project_id: "proj-5", members: 1 } });
    socket.close();
  });

  /** An AutoCode client over Socket.IO: each envelope emitted as the event of its type. */
  const envelope = (type: string, projectGuid: unknown, data: unknown = {}) => ({
    type,
    projectGuid,
    data,
    timestamp: new Date().toISOString(),
    id: "c-1",
  });
  const framesOf = (socket: ClientSocket, type: string, count: number) =>
    new Promise<Array<Record<string, unknown>>>((resolve) => {
      const frames: Array<Record<string, unknown>> = [];
      socket.on(type, (frame: Record<string, unknown>) => {
        frames.push(frame);
        if (frames.length === count) resolve(frames);
      });
    });

  it("answers a ping inside a project (Socket.IO, auth.dialect) with pong carrying that projectGuid, in the order asked", async () => {
    const { socket } = await connect(server.url, { dialect: "autocode" });
    const pongs = framesOf(socket, "pong", 3);
    const joined = nextEvent(socket, "joined_project");
    socket.emit("join_project", envelope("join_project", "g-7"));
    expect(await joined).to.include({ projectGuid: "g-7" });
    socket.emit("ping", envelope("ping", "g-7"));
    socket.emit("ping", envelope("ping", null));
    socket.emit("ping", envelope("ping", "g-8"));
    expect((await pongs).map((f) => [f["type"], f["projectGuid"]])).to.deep.equal([
      ["pong", "g-7"],
      ["pong", null],
      ["pong", "g-8"],
    ]);
    socket.close();
  });

  it("names the project in a refusal about it: not_in_project for g-1 says g-1, an invalid frame for g-2 says g-2", async () => {
    const { socket } = await connect(server.url, { dialect: "autocode" });
    const errors = framesOf(socket, "error", 2);
    socket.emit("user_feedback", envelope("user_feedback", "g-1", { content: "hello?" }));
    socket.emit("leave_project", envelope("leave_project", "g-2", { extra: true }));
    const byRequest = new Map(
      (await errors).map((f) => [(f["data"] as Record<string, unknown>)["request_type"], f]),
    );
    const [notJoined, invalid] = [byRequest.get("user_feedback"), byRequest.get("leave_project")];
    expect(notJoined).to.include({ type: "error", projectGuid: "g-1" });
    expect(notJoined!["data"]).to.include({
      code: "not_in_project",
      request_type: "user_feedback",
    });
    expect(invalid).to.include({ type: "error", projectGuid: "g-2" });
    expect(invalid!["data"]).to.include({ code: "invalid_payload", request_type: "leave_project" });
    socket.close();
  });

  it("keeps its bookkeeping bounded when a client invents request types, and still answers", async () => {
    const { socket } = await connect(server.url, { dialect: "autocode" });
    const errors = framesOf(socket, "error", 40);
    for (let i = 0; i < 40; i++) socket.emit(`invented_${i}`, envelope(`invented_${i}`, `p-${i}`));
    const refused = await errors;
    expect(
      new Set(refused.map((f) => (f["data"] as Record<string, unknown>)["code"])),
    ).to.deep.equal(new Set(["unknown_type"]));
    // The first types are followed; past the ceiling an answer names no project rather than a wrong one.
    expect(refused[0]).to.include({ projectGuid: "p-0" });
    expect(refused.at(-1)).to.include({ projectGuid: null });
    const pong = nextEvent(socket, "pong");
    socket.emit("ping", envelope("ping", "p-ok"));
    expect(await pong).to.include({ projectGuid: "p-ok" });
    socket.close();
  });

  it("keeps no guid that is not a project id: a 100,000-character projectGuid on a ping is answered with null", async () => {
    const { socket } = await connect(server.url, { dialect: "autocode" });
    const pongs = framesOf(socket, "pong", 2);
    socket.emit("ping", envelope("ping", "g".repeat(100_000)));
    socket.emit("ping", envelope("ping", { nested: "g-1" }));
    expect((await pongs).map((f) => f["projectGuid"])).to.deep.equal([null, null]);
    socket.close();
  });

  it("refuses a frame without projectGuid with the native invalid_payload, in the envelope", async () => {
    const { socket } = await connect(server.url);
    const translator = autocode.createTranslator({ sessionId: "s" });
    const error = nextFrame(socket, translator, "error");
    const ack = await send(socket, translator, { type: "join_project", data: "not an object" });
    expect(ack.ok).to.equal(false);
    const frame = await error;
    expect(frame).to.include({ type: "error", projectGuid: null });
    expect(frame["data"]).to.include({ code: "invalid_payload", request_type: "join_project" });
    socket.close();
  });
});
