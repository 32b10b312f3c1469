import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { dialectFor } from "../../src/dialects/index.js";
import { connect, request, startGateway, type RunningGateway } from "../support/gateway.js";
import { ofType, recordRun, translateAll } from "./recorded-runs.js";

const flaskChat = dialectFor("flask-chat");
const content = (frame: { payload: Record<string, unknown> } | undefined) =>
  frame?.payload["content"] as Record<string, unknown>;

describe("dialect flask-chat (the Flask-SocketIO chat protocol, its front end)", function () {
  this.timeout(30000);
  let server: RunningGateway;
  /** Counts requests, to show an image URL is never fetched. */
  let imageHost: Server;
  let imageRequests = 0;
  before(async () => {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0" });
    imageHost = createServer((_req, res) => {
      imageRequests++;
      res.end();
    });
    await new Promise<void>((resolve) => imageHost.listen(0, "127.0.0.1", resolve));
  });
  after(async () => {
    await new Promise((resolve) => imageHost.close(resolve));
    await server.close();
  });

  it("answers chat_message with agent_status lines, the text in whole segments, then stop", async () => {
    const run = await recordRun(server.url, "chat_message", {
      history: [{ role: "user", content: "hello" }, { content: { text: "hi, how can I help?" } }],
      current_text: "what is 12 * (3 + 4)?",
      current_image_paths: [],
    });
    run.socket.close();
    const frames = translateAll(
      flaskChat.createTranslator({ sessionId: run.sessionId }),
      run.events,
    );
    const responses = ofType(frames, "chat_response");
    expect(responses).to.have.length(frames.filter((f) => f.type !== "pong").length);
    expect(responses.map((f) => f.payload["type"])).to.deep.equal([
      "agent_status", // agent: step 1
      "agent_status", // tools: step 2
      "agent_status", // tool_start
      "agent_status", // tool_result
      "agent_status", // agent: step 3
      "text",
      "stop",
    ]);
    expect(content(responses[3])).to.deep.equal({
      status: "tool_result",
      message: "calculator returned 84",
    });
    const end = run.events.find((e) => e.type === "stream_end");
    expect(content(responses[5])).to.deep.equal({ data: end?.payload["total_content"] });
    expect(content(responses[6])).to.include({ message_id: end?.payload["message_id"] });
  });

  it("shows a discussion as one text per speaker, between its status lines", async () => {
    const run = await recordRun(server.url, "start_conversation", { topic: "bicycles", rounds: 1 });
    run.socket.close();
    const frames = translateAll(
      flaskChat.createTranslator({ sessionId: run.sessionId }),
      run.events,
    );
    const texts = frames.filter((f) => f.payload["type"] === "text").map((f) => content(f)["data"]);
    const end = run.events.find((e) => e.type === "stream_end");
    expect(texts).to.deep.equal(String(end?.payload["total_content"]).split("\n\n"));
    expect(frames.at(-1)?.payload["type"]).to.equal("stop");
  });

  it("passes image URLs and relative paths into the run without fetching them", async () => {
    const url = `http://127.0.0.1:${(imageHost.address() as AddressInfo).port}/cat.png`;
    const run = await recordRun(server.url, "chat_message", {
      history: [],
      current_text: "describe these",
      current_image_paths: [url, "uploads/2024/cat.png", "https://example.com/a.png?x=1#y"],
    });
    run.socket.close();
    expect(run.events.at(-1)?.type).to.equal("stream_end");
    expect(imageRequests).to.equal(0);
  });

  const refused: Array<[string, Record<string, unknown>]> = [
    ["a local file path", { current_image_paths: ["/etc/passwd"] }],
    ["a path that climbs out", { current_image_paths: ["uploads/../../etc/passwd"] }],
    ["a bare ..", { current_image_paths: [".."] }],
    ["a file: URL", { current_image_paths: ["file:///etc/passwd"] }],
    ["a javascript: URL", { current_image_paths: ["javascript:alert(1)"] }],
    ["a protocol-relative URL", { current_image_paths: ["//evil.example/x.png"] }],
    ["a URL with credentials", { current_image_paths: ["http://user:pw@example.com/x.png"] }],
    ["a Windows path", { current_image_paths: ["C:\\Windows\\win.ini"] }],
    ["a path of 2049 characters", { current_image_paths: [`a${"b".repeat(2048)}`] }],
    ["nine images", { current_image_paths: Array.from({ length: 9 }, (_, i) => `img/${i}.png`) }],
    [
      "101 history items",
      { history: Array.from({ length: 101 }, () => ({ role: "user", content: "x" })) },
    ],
    [
      "a history item of 32,001 characters",
      { history: [{ role: "user", content: "x".repeat(32001) }] },
    ],
    ["a history role of 33 characters", { history: [{ role: "r".repeat(33), content: "x" }] }],
    ["an empty text", { current_text: "" }],
  ];
  for (const [what, change] of refused) {
    it(`refuses ${what} with invalid_payload, and the connection stays`, async () => {
      const { socket } = await connect(server.url);
      const ack = await request(socket, "chat_message", {
        history: [],
        current_text: "look at this",
        current_image_paths: [],
        ...change,
      });
      expect(ack.ok).to.equal(false);
      if (!ack.ok) expect(ack.error.code).to.equal("invalid_payload");
      expect(await request(socket, "ping", {})).to.deep.equal({ ok: true, data: {} });
      socket.close();
    });
  }

  const bubble = (text: string, position = "left") => ({
    _id: "k3j2h1",
    type: "text",
    content: { text },
    position,
    createdAt: 1730000000000,
    hasTime: false,
  });

  it("accepts its page's own bubbles (ChatUI message objects, text and image) as history", async () => {
    const { socket } = await connect(server.url, { dialect: "flask-chat" });
    const stop = new Promise<Record<string, unknown>>((resolve) =>
      socket.on("chat_response", (r: Record<string, unknown>) => {
        if (r["type"] === "stop") resolve(r);
      }),
    );
    const ack = await request(socket, "chat_message", {
      history: [
        bubble("hello", "right"),
        { ...bubble(""), type: "image", content: { picUrl: "https://example.com/a.png" } },
        bubble("hi, how can I help?"),
        { type: "text", content: { text: "a bubble without ChatUI's fields" } },
      ],
      current_text: "what is 2 + 2?",
      current_image_paths: [],
    });
    expect(ack.ok, JSON.stringify(ack)).to.equal(true);
    await stop;
    socket.close();
  });

  const notBubbles: Array<[string, unknown]> = [
    ["a field the page never sets", { ...bubble("x"), admin: true }],
    ["a bubble type it has no text for", { ...bubble("x"), type: "video" }],
    ["an inherited name as its position", { ...bubble("x"), position: "constructor" }],
    ["a text bubble with another content field", { ...bubble("x"), content: { url: "x" } }],
    ["a text of 32,001 characters", bubble("x".repeat(32001))],
    ["a text that is not a string", { ...bubble("x"), content: { text: { nested: true } } }],
  ];
  for (const [what, item] of notBubbles) {
    it(`still refuses a history item with ${what} over the flask-chat dialect`, async () => {
      const { socket } = await connect(server.url, { dialect: "flask-chat" });
      const ack = await request(socket, "chat_message", {
        history: [bubble("fine"), item],
        current_text: "look at this",
        current_image_paths: [],
      });
      expect(!ack.ok && ack.error.code).to.equal("invalid_payload");
      socket.close();
    });
  }

  it("refuses 101 of its page's bubbles as history", async () => {
    const { socket } = await connect(server.url, { dialect: "flask-chat" });
    const ack = await request(socket, "chat_message", {
      history: Array.from({ length: 101 }, () => bubble("x")),
      current_text: "look at this",
      current_image_paths: [],
    });
    expect(!ack.ok && ack.error.code).to.equal("invalid_payload");
    socket.close();
  });

  it("shows a run's error as chat_response error and as the error event its page listens to", () => {
    const translator = flaskChat.createTranslator({ sessionId: "s" });
    translator.outbound("stream_chunk", {
      type: "stream_chunk",
      timestamp: 1,
      message_id: "m",
      seq: 1,
      content: "half",
      agent: "agent",
    });
    const error = {
      type: "error",
      timestamp: 2,
      code: "agent_error",
      message: "The agent failed: boom",
      message_id: "m",
    };
    const frames = translator.outbound("error", error);
    expect(frames.map((f) => [f.type, f.payload["type"]])).to.deep.equal([
      ["chat_response", "text"],
      ["chat_response", "error"],
      ["error", "error"],
    ]);
    expect(content(frames[1])).to.deep.equal({
      code: "agent_error",
      message: "The agent failed: boom",
    });
  });
});
