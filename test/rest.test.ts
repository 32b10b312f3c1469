import { expect } from "chai";
import {
  connect,
  nextEvent,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";

const API_KEY = "test-api-key-0123456789";

describe("REST", () => {
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({
      API_KEY,
      DEMO_TOKEN_DELAY_MS: "20",
      CORS_ORIGINS: "https://app.example",
    });
  });
  after(() => server.close());

  const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);
  /** Per-connection detail is for the operator (docs/security.md). */
  const asOperator = { headers: { authorization: `Bearer ${API_KEY}` } };

  it("answers /healthz and /readyz", async () => {
    expect(await (await get("/healthz")).json()).to.deep.equal({ status: "ok" });
    const ready = await get("/readyz");
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ status: "ready" });
  });

  it("counts connections and messages in /ws/statistics, in the agent-engine protocol's shape", async () => {
    const { socket, connected } = await connect(server.url);
    await request(socket, "ping", {});
    await request(socket, "ping", {});
    const stats = (await (await get("/ws/statistics", asOperator)).json()) as {
      active_connections: number;
      total_connections: number;
      total_messages: number;
      connections: Array<Record<string, unknown>>;
    };
    const mine = stats.connections.find((c) => c["id"] === connected.connection_id);
    expect(mine).to.include({
      session_id: connected.session_id,
      message_count: 2,
      node_id: server.gateway.nodeId,
    });
    expect(mine?.["connected_at"]).to.be.within(Date.now() / 1000 - 10, Date.now() / 1000);
    expect(mine?.["uptime"]).to.be.a("number").at.least(0);
    expect(stats.active_connections).to.equal(stats.connections.length);
    expect(stats.total_connections).to.be.at.least(stats.active_connections);
    expect(stats.total_messages).to.be.at.least(2);
    socket.close();
  });

  it("describes a session's connections and its active run", async () => {
    const missing = await get("/api/sessions/nobody-here", asOperator);
    expect(missing.status).to.equal(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).to.equal(
      "not_found",
    );

    const { socket, connected } = await connect(server.url);
    const idle = (await (
      await get(`/api/sessions/${connected.session_id}`, asOperator)
    ).json()) as Record<string, unknown>;
    expect(idle).to.deep.include({
      session_id: connected.session_id,
      run_active: false,
      active_run: null,
    });
    expect(idle["connections"]).to.have.length(1);

    const started = nextEvent(socket, "stream_start");
    await request(socket, "message", { content: "Tell me a long story", message_id: "story-1" });
    await started;
    const busy = (await (
      await get(`/api/sessions/${connected.session_id}`, asOperator)
    ).json()) as Record<string, unknown>;
    expect(busy).to.deep.include({ run_active: true });
    expect(busy["active_run"]).to.include({
      message_id: "story-1",
      node_id: server.gateway.nodeId,
    });
    await request(socket, "cancel", {});
    socket.close();
  });

  it("lists every handler with its description and JSON schema", async () => {
    const body = (await (await get("/api/handlers")).json()) as {
      handlers: Array<{ type: string; description: string; schema: { type: string } }>;
    };
    expect(body.handlers.map((h) => h.type)).to.deep.equal([...server.gateway.handlers.keys()]);
    for (const type of [
      "ping",
      "message",
      "cancel",
      "tool_call",
      "join_project",
      "resume",
      "start_conversation",
    ]) {
      expect(body.handlers.map((h) => h.type)).to.include(type);
    }
    const toolCall = body.handlers.find((h) => h.type === "tool_call");
    // params has a default, so it is optional in the published schema.
    expect(toolCall?.schema).to.deep.include({ type: "object", required: ["tool_name"] });
  });

  describe("POST /api/projects/:id/events", () => {
    const post = (body: unknown, key: string | null = API_KEY) =>
      get("/api/projects/p9/events", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });

    it("broadcasts to the project's room", async () => {
      const member = await connect(server.url);
      await request(member.socket, "join_project", { project_id: "p9" });
      const event = nextEvent(member.socket, "project_stage_update");
      const res = await post({
        type: "project_stage_update",
        data: { stage: "build", progress: 0.5 },
      });
      expect(res.status).to.equal(202);
      expect(await event).to.deep.include({
        type: "project_stage_update",
        project_id: "p9",
        data: { stage: "build", progress: 0.5 },
      });
      member.socket.close();
    });

    it("answers 401 without a valid key", async () => {
      for (const key of [null, "wrong-key-wrong-key-12", `${API_KEY}x`]) {
        const res = await post({ type: "project_message", data: {} }, key);
        expect(res.status).to.equal(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).to.equal(
          "unauthorized",
        );
      }
    });

    it("answers 400 on a bad body", async () => {
      for (const body of [
        { type: "launch_rockets", data: {} },
        { data: {} },
        "{not json",
        { type: "agent_message", data: 3 },
      ]) {
        const res = await post(body);
        expect(res.status).to.equal(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).to.equal(
          "invalid_payload",
        );
      }
    });
  });

  it("serves the console at /, /static/ and /static/test_websocket.html", async () => {
    for (const path of ["/", "/static/", "/static/test_websocket.html", "/test_websocket.html"]) {
      const res = await get(path);
      expect(res.status, path).to.equal(200);
      expect(res.headers.get("content-type")).to.match(/text\/html/);
    }
  });

  it("sends security headers, CORS for configured origins only, and JSON 404s", async () => {
    const res = await get("/healthz", { headers: { origin: "https://app.example" } });
    expect(res.headers.get("x-content-type-options")).to.equal("nosniff");
    expect(res.headers.get("content-security-policy")).to.include("default-src 'self'");
    expect(res.headers.get("access-control-allow-origin")).to.equal("https://app.example");
    const other = await get("/healthz", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).to.equal(null);
    const missing = await get("/no/such/route");
    expect(missing.status).to.equal(404);
    expect(await missing.json()).to.deep.equal({
      error: { code: "not_found", message: "No route for GET /no/such/route" },
    });
  });
});
