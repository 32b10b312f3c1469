import type { IncomingMessage } from "node:http";
import type { Socket as NetSocket } from "node:net";
import { expect } from "chai";
import { SignJWT } from "jose";
import type { Page } from "playwright-core";
import type { Socket as ClientSocket } from "socket.io-client";
import { launchBrowser, screenshot, type RunningBrowser } from "../support/browser.js";
import {
  connect,
  OPERATOR_KEY,
  recordEvents,
  startGateway,
  startGatewayWithHandler,
  type RunningGateway,
} from "../support/gateway.js";

interface StreamEnd {
  message_id: string;
  total_content: string;
}

interface Cancelled {
  message_id: string;
  partial_content: string;
}

const JWT_SECRET = "browser-test-secret-0123456789abcdef";

/** Resolves with the first `type` event the socket receives that matches. */
function waitForEvent<T>(
  socket: ClientSocket,
  type: string,
  matches: (event: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const listener = (event: T) => {
      if (!matches(event)) return;
      socket.off(type, listener);
      resolve(event);
    };
    socket.on(type, listener);
  });
}

/** What the page shows of one agent message: its text parts, in order. */
function shownText(page: Page, messageId: string): Promise<string> {
  return page
    .locator(`[data-testid="agent-message"][data-message-id="${messageId}"]`)
    .evaluate((el) =>
      Array.from(el.querySelectorAll('[data-testid="message-text"]'))
        .map((part) => part.textContent ?? "")
        .join(""),
    );
}

describe("test console in a real browser", function () {
  this.timeout(60_000);

  let server: RunningGateway;
  let browser: RunningBrowser;
  const observers: ClientSocket[] = [];
  let sessionCounter = 0;
  const plainUpgrades: Array<{ url: string; socket: NetSocket }> = [];

  before(async () => {
    browser = await launchBrowser();
    // Slow enough to watch the stream (and to drop the connection in the middle of it).
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "20" });
    // The TCP sockets of plain WebSocket upgrades, so a test can cut one as the network would.
    server.gateway.httpServer.on("upgrade", (req: IncomingMessage, socket: NetSocket) => {
      if (req.url?.startsWith("/ws")) plainUpgrades.push({ url: req.url, socket });
    });
  });

  after(async () => {
    for (const socket of observers) socket.close();
    await browser?.close();
    await server?.close();
  });

  afterEach(async () => {
    for (const page of browser.context.pages()) await page.close();
  });

  const newSessionId = () => `browser-${process.pid}-${++sessionCounter}`;

  /** A second, real Socket.IO client in the page's session: it sees what the page should see. */
  async function observe(sessionId: string): Promise<ClientSocket> {
    const { socket } = await connect(server.url, { session_id: sessionId });
    observers.push(socket);
    return socket;
  }

  /** A connected console in a new session, with an observing client in the same session. */
  async function observedConsole(transport: "socketio" | "ws" = "socketio") {
    const sessionId = newSessionId();
    const observer = await observe(sessionId);
    const page = await openConsole();
    await connectPage(page, sessionId, transport);
    return { sessionId, observer, page };
  }

  async function openConsole(url = server.url): Promise<Page> {
    const page = await browser.context.newPage();
    await page.goto(`${url}/`);
    await page.waitForSelector('[data-testid="handler-select"][data-loaded="true"]');
    return page;
  }

  async function connectPage(
    page: Page,
    sessionId: string,
    transport: "socketio" | "ws" = "socketio",
  ): Promise<void> {
    await page.getByTestId("transport-select").selectOption(transport);
    await page.getByTestId("session-id-input").fill(sessionId);
    await page.getByTestId("connect-button").click();
    await settledConnection(page, "connected");
  }

  /** Waits until the connection is up or refused, and fails with the page's reason if not `want`. */
  async function settledConnection(page: Page, want: "connected" | "refused"): Promise<void> {
    const state = page.getByTestId("connection-state");
    await page.waitForSelector(
      '[data-testid="connection-state"]:is([data-state="connected"], [data-state="refused"])',
    );
    expect(await state.getAttribute("data-state"), (await state.textContent())?.trim()).to.equal(
      want,
    );
  }

  /** Asks through the quick action; resolves with the message id the stream uses. */
  async function ask(page: Page, observer: ClientSocket, question: string): Promise<string> {
    const started = waitForEvent<{ message_id: string }>(observer, "stream_start");
    await page.getByTestId("quick-text").fill(question);
    await page.getByTestId("quick-ask").click();
    return (await started).message_id;
  }

  it("loads without console errors and offers exactly the handlers of /api/handlers", async () => {
    const page = await openConsole();
    const response = await fetch(`${server.url}/api/handlers`);
    const body = (await response.json()) as { handlers: Array<{ type: string }> };
    const offered = await page
      .getByTestId("handler-select")
      .evaluate((select: HTMLSelectElement) => Array.from(select.options).map((o) => o.value));
    expect(offered).to.have.members(body.handlers.map((h) => h.type));
    expect(offered).to.have.length(body.handlers.length);
    await connectPage(page, newSessionId());
    // The statistics refresh is a fetch too: wait for one round so its errors would show.
    await page.waitForSelector('[data-testid="stats-updated"][data-ok="true"]');
    await screenshot(page, "01-loaded");
    expect(browser.problems).to.deep.equal([]);
  });

  it("serves the same page under the names the agent-engine protocol uses", async () => {
    for (const alias of ["/test_websocket.html", "/static/test_websocket.html", "/static/"]) {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}${alias}`);
      await page.waitForSelector('[data-testid="handler-select"][data-loaded="true"]');
      await page.close();
    }
    expect(browser.problems).to.deep.equal([]);
  });

  it("connects, shows the session id and remembers it", async () => {
    const sessionId = newSessionId();
    const page = await openConsole();
    await connectPage(page, sessionId);
    expect(await page.getByTestId("session-id").textContent()).to.equal(sessionId);
    expect(await page.getByTestId("connection-id").textContent()).to.match(/^[\w-]{10,}$/);
    await page.reload();
    await page.waitForSelector('[data-testid="handler-select"][data-loaded="true"]');
    expect(await page.getByTestId("session-id-input").inputValue()).to.equal(sessionId);
    await page.getByTestId("connect-button").click();
    await settledConnection(page, "connected");
    expect(await page.getByTestId("session-id").textContent()).to.equal(sessionId);
  });

  it("starts a new session when the id is left empty", async () => {
    const page = await openConsole();
    await page.getByTestId("session-id-input").fill("");
    await page.getByTestId("connect-button").click();
    await settledConnection(page, "connected");
    const shown = await page.getByTestId("session-id").textContent();
    expect(shown).to.match(/^[0-9a-f-]{36}$/);
    expect(await page.getByTestId("session-id-input").inputValue()).to.equal(shown);
  });

  it("answers ping with a pong and shows the round-trip time", async () => {
    const page = await openConsole();
    await connectPage(page, newSessionId());
    await page.getByTestId("quick-ping").click();
    await page.getByTestId("pong").waitFor();
    await page.waitForFunction(() =>
      /\d+(\.\d+)? ms/.test(document.querySelector('[data-testid="rtt"]')?.textContent ?? ""),
    );
    await page.waitForSelector('[data-testid="log-entry"][data-type="pong"][data-direction="in"]');
    await page.waitForSelector('[data-testid="log-entry"][data-type="ping"][data-direction="out"]');
    expect(Number(await page.getByTestId("stat-sent").textContent())).to.be.at.least(1);
    expect(Number(await page.getByTestId("stat-received").textContent())).to.be.at.least(2);
    await screenshot(page, "02-ping");
  });

  it("shows 579 for the calculator quick action", async () => {
    const page = await openConsole();
    await connectPage(page, newSessionId());
    await page.getByTestId("quick-calculate").click();
    const result = page.getByTestId("tool-result").getByTestId("tool-result-value");
    await result.waitFor();
    expect(await result.textContent()).to.equal("579");
    expect(await page.getByTestId("tool-result").textContent()).to.contain("123 + 456");
    await screenshot(page, "03-calculator");
  });

  it("streams an answer with a typing indicator, then a done mark, exactly as total_content", async () => {
    const { observer, page } = await observedConsole();
    const ended = waitForEvent<StreamEnd>(observer, "stream_end");
    const messageId = await ask(page, observer, "Tell me about streaming gateways and typewriters");
    await page.getByTestId("typing-indicator").waitFor({ state: "visible" });
    await page.getByTestId("cancel-button").waitFor({ state: "visible" });
    await screenshot(page, "04-streaming");
    const end = await ended;
    expect(end.message_id).to.equal(messageId);
    const message = page.locator(`[data-testid="agent-message"][data-message-id="${messageId}"]`);
    await message.getByTestId("done-mark").waitFor();
    expect(await shownText(page, messageId)).to.equal(end.total_content);
    expect(await message.getAttribute("data-mismatch")).to.equal(null);
    await page.getByTestId("typing-indicator").waitFor({ state: "hidden" });
    await page.getByTestId("cancel-button").waitFor({ state: "hidden" });
    await screenshot(page, "05-answer-done");
  });

  it("shows the agent's tool call inline", async () => {
    const { observer, page } = await observedConsole();
    const ended = waitForEvent<StreamEnd>(observer, "stream_end");
    const messageId = await ask(page, observer, "what is 12 * (3 + 4)?");
    const end = await ended;
    const message = page.locator(`[data-testid="agent-message"][data-message-id="${messageId}"]`);
    await message.getByTestId("done-mark").waitFor();
    const tool = message.getByTestId("tool-call");
    expect(await tool.getAttribute("data-tool")).to.equal("calculator");
    expect(await tool.getByTestId("tool-result-value").textContent()).to.equal("84");
    expect(await shownText(page, messageId)).to.equal(end.total_content);
  });

  it("cancels a streaming answer", async () => {
    const { observer, page } = await observedConsole();
    const events = recordEvents(observer);
    const cancelled = waitForEvent<Cancelled>(observer, "cancelled");
    let finished = false;
    void waitForEvent(observer, "stream_end").then(() => (finished = true));
    const messageId = await ask(page, observer, "Tell me a long story about cancellation");
    const message = page.locator(`[data-testid="agent-message"][data-message-id="${messageId}"]`);
    await page.waitForFunction(
      (id) =>
        Number(
          document.querySelector(`[data-message-id="${id}"]`)?.getAttribute("data-last-seq"),
        ) >= 3,
      messageId,
    );
    await page.getByTestId("cancel-button").click();
    const event = await cancelled;
    expect(event.message_id).to.equal(messageId);
    await message.getByTestId("message-status").filter({ hasText: "cancelled" }).waitFor();
    expect(await message.getAttribute("data-status")).to.equal("cancelled");
    expect(finished, "stream_end after cancel").to.equal(false);
    const sentBeforeCancel = events
      .slice(
        0,
        events.findIndex((e) => e.type === "cancelled"),
      )
      .filter((e) => e.type === "stream_chunk" && e.payload["message_id"] === messageId)
      .map((e) => String(e.payload["content"]))
      .join("");
    expect(await shownText(page, messageId), "the page shows the chunks sent").to.equal(
      sentBeforeCancel,
    );
    expect(event.partial_content, "server: partial_content = the chunks sent").to.equal(
      sentBeforeCancel,
    );
    await page.getByTestId("cancel-button").waitFor({ state: "hidden" });
    await screenshot(page, "06-cancelled");
  });

  it("reconnects by itself after a dropped connection and completes the answer without repeats", async () => {
    const { sessionId, observer, page } = await observedConsole();
    const firstConnection = await page.getByTestId("connection-id").textContent();
    const ended = waitForEvent<StreamEnd>(observer, "stream_end");
    const messageId = await ask(
      page,
      observer,
      "Explain reconnection, resumption and sequence numbers",
    );
    await page.waitForFunction(
      (id) =>
        Number(
          document.querySelector(`[data-message-id="${id}"]`)?.getAttribute("data-last-seq"),
        ) >= 3,
      messageId,
    );
    // Drop the page's transport from the server side, as a network failure would.
    const serverSocket = server.gateway.io.of("/").sockets.get(firstConnection ?? "");
    expect(serverSocket, "the page's connection on the server").to.not.equal(undefined);
    serverSocket!.conn.close();
    await page.waitForSelector('[data-testid="log-entry"][data-type="disconnect"]');
    await page.waitForFunction((before) => {
      const state = document.querySelector('[data-testid="connection-state"]');
      const id = document.querySelector('[data-testid="connection-id"]')?.textContent;
      return state?.getAttribute("data-state") === "connected" && id !== before && id !== "—";
    }, firstConnection);
    expect(await page.getByTestId("session-id").textContent()).to.equal(sessionId);
    await page.waitForSelector(
      '[data-testid="log-entry"][data-type="resume"][data-direction="out"]',
    );
    const end = await ended;
    const message = page.locator(`[data-testid="agent-message"][data-message-id="${messageId}"]`);
    await message.getByTestId("done-mark").waitFor();
    expect(await shownText(page, messageId)).to.equal(end.total_content);
    expect(await message.getAttribute("data-mismatch")).to.equal(null);
    // The answer went on after the resume: chunks were logged after it, not all before the drop.
    const chunksAfterResume = await page.evaluate(() => {
      const types = Array.from(document.querySelectorAll('[data-testid="log-entry"]')).map((e) =>
        e.getAttribute("data-type"),
      );
      return types.slice(types.indexOf("resume")).filter((t) => t === "stream_chunk").length;
    });
    expect(chunksAfterResume).to.be.above(0);
    await screenshot(page, "07-reconnected");
  });

  it("labels each agent's turn in a discussion, sent from the raw JSON editor", async () => {
    const { observer, page } = await observedConsole();
    await page.getByTestId("handler-select").selectOption("start_conversation");
    await page.getByTestId("mode-json").click();
    const editor = page.getByTestId("json-editor");
    await editor.fill(JSON.stringify({ topic: "Should consoles stream?", rounds: 1 }));
    const started = waitForEvent<{ message_id: string }>(observer, "stream_start");
    const ended = waitForEvent<StreamEnd>(observer, "stream_end");
    await editor.press("Enter");
    const { message_id: messageId } = await started;
    const message = page.locator(`[data-testid="agent-message"][data-message-id="${messageId}"]`);
    await message.getByTestId("done-mark").waitFor();
    await ended;
    const labels = await message
      .getByTestId("agent-label")
      .evaluateAll((els) => els.map((el) => el.getAttribute("data-agent")));
    expect(new Set(labels).size).to.be.at.least(2);
    expect(await message.getByTestId("agent-label").first().textContent()).to.match(/round 1/);
    await screenshot(page, "08-discussion");
  });

  it("builds the form from the handler's schema and sends it with Enter", async () => {
    const sessionId = newSessionId();
    const page = await openConsole();
    await connectPage(page, sessionId);
    await page.getByTestId("handler-select").selectOption("join_project");
    await page.getByTestId("json-editor").waitFor({ state: "hidden" });
    const field = page.getByTestId("schema-form").getByTestId("field-project_id");
    await field.fill("console-project");
    await field.press("Enter");
    await page.getByTestId("joined-note").filter({ hasText: "console-project" }).waitFor();
    await page.getByTestId("ack-result").filter({ hasText: "join_project accepted" }).waitFor();
    await page.getByTestId("handler-select").selectOption("tool_call");
    await page.getByTestId("mode-json").click();
    await page
      .getByTestId("json-editor")
      .fill(JSON.stringify({ tool_name: "calculator", params: { expression: "1 / 0" } }));
    await page.getByTestId("send-button").click();
    await page.getByTestId("ack-result").filter({ hasText: "invalid_params" }).waitFor();
    await page.getByTestId("error-note").filter({ hasText: "invalid_params" }).waitFor();
  });

  it("filters, expands and clears the event log", async () => {
    const page = await openConsole();
    await connectPage(page, newSessionId());
    await page.getByTestId("quick-ping").click();
    await page.getByTestId("pong").waitFor();
    await page.getByTestId("log-filter").selectOption("pong");
    const visible = page.locator('[data-testid="log-entry"]:visible');
    expect(
      await visible.evaluateAll((els) => els.map((el) => el.getAttribute("data-type"))),
    ).to.deep.equal(["pong"]);
    await visible.locator("summary").click();
    expect(JSON.parse((await visible.getByTestId("log-json").textContent()) ?? "")).to.include({
      type: "pong",
    });
    await page.getByTestId("log-filter").selectOption("");
    await page.getByTestId("log-clear").click();
    expect(await page.getByTestId("log-entry").count()).to.equal(0);
  });

  it("shows the server's statistics", async () => {
    const page = await openConsole();
    await connectPage(page, newSessionId());
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="stat-active"]')?.textContent) >= 1,
    );
    const stats = (await (await fetch(`${server.url}/ws/statistics`)).json()) as {
      total_connections: number;
    };
    const shown = Number(await page.getByTestId("stat-total").textContent());
    expect(shown).to.be.within(1, stats.total_connections);
  });

  it("lists the server's connections once the API key is typed in the page, and never stores it", async () => {
    const keyed = await startGateway({ API_KEY: OPERATOR_KEY });
    try {
      const page = await openConsole(keyed.url);
      await connectPage(page, newSessionId());
      await page.locator(".conn-list summary").click();
      const note = page.getByTestId("stats-key-note");
      expect(await note.textContent()).to.contain("enter it above");
      await page.getByTestId("stats-api-key").fill("not-the-key");
      await page.getByTestId("stats-api-key").press("Enter");
      await page.getByText("The server did not accept this API key").waitFor();
      await page.getByTestId("stats-api-key").fill(OPERATOR_KEY);
      await page.getByTestId("stats-api-key").press("Enter");
      const mine = page.locator('[data-testid="stats-connections"] tr.mine');
      await mine.waitFor();
      const connectionId = (await page.getByTestId("connection-id").textContent()) ?? "";
      expect(await mine.locator("td").first().getAttribute("title")).to.equal(connectionId);
      const stored = await page.evaluate(() =>
        JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie]),
      );
      expect(stored).not.to.contain(OPERATOR_KEY);
      await screenshot(page, "16-statistics-with-key");
    } finally {
      await keyed.close();
    }
  });

  it("names the refused field in the error note, with the validator's details", async () => {
    const page = await openConsole();
    await connectPage(page, newSessionId());
    await page.evaluate(() =>
      (
        window as unknown as { gatewayConsole: { send(t: string, p: unknown): Promise<unknown> } }
      ).gatewayConsole.send("join_project", { project_id: 42 }),
    );
    const note = page.getByTestId("error-note").last();
    expect(await note.textContent()).to.contain(
      'invalid_payload — Invalid payload for "join_project": /project_id must be string',
    );
    expect(await note.getByTestId("error-details").textContent()).to.equal(
      "/project_id must be string",
    );
  });

  it("shows why a connection is refused, and connects with a valid token", async () => {
    const secured = await startGateway({ AUTH_JWT_SECRET: JWT_SECRET });
    try {
      const page = await openConsole(secured.url);
      await page.getByTestId("token-input").fill("not-a-jwt");
      await page.getByTestId("connect-button").click();
      await settledConnection(page, "refused");
      expect(await page.getByTestId("connection-state").textContent()).to.contain("unauthorized");
      await screenshot(page, "09-refused");
      // The reason wraps on a row of its own: every field keeps its width and its whole label.
      for (const width of [1280, 1000, 390]) {
        await page.setViewportSize({ width, height: 844 });
        const layout = await page.evaluate(() => {
          const transport = document.getElementById("transport") as HTMLSelectElement;
          const probe = document.createElement("span");
          probe.style.font = getComputedStyle(transport).font;
          probe.textContent = "Plain WebSocket";
          document.body.append(probe);
          const label = probe.getBoundingClientRect().width;
          probe.remove();
          return {
            overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
            url: document.getElementById("server-url")!.getBoundingClientRect().width,
            state: document
              .getElementById("conn-state")!
              .getBoundingClientRect()
              .toJSON() as DOMRect,
            bar: document
              .getElementById("connection-form")!
              .getBoundingClientRect()
              .toJSON() as DOMRect,
            transportRoom: transport.clientWidth - label,
          };
        });
        expect(layout.overflow, `overflow at ${width}`).to.be.at.most(0);
        expect(layout.state.right, `state inside the bar at ${width}`).to.be.at.most(
          layout.bar.right + 1,
        );
        expect(layout.url, `URL field at ${width}`).to.be.at.least(150);
        // The label, its padding and the arrow.
        expect(layout.transportRoom, `transport label at ${width}`).to.be.at.least(24);
      }
      await screenshot(page, "09-refused-narrow");
      await page.setViewportSize({ width: 1280, height: 800 });
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("browser-user")
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(JWT_SECRET));
      await page.getByTestId("token-input").fill(token);
      await page.getByTestId("connect-button").click();
      await settledConnection(page, "connected");
    } finally {
      await secured.close();
    }
  });

  it("stays readable on a narrow window", async () => {
    const page = await openConsole();
    await page.setViewportSize({ width: 390, height: 844 });
    await connectPage(page, newSessionId());
    await page.getByTestId("quick-calculate").click();
    await page.getByTestId("tool-result").waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow, "horizontal overflow in px").to.be.at.most(0);
    await screenshot(page, "10-narrow");
  });

  it("brings the conversation into view when a quick action starts a stream on a narrow window", async () => {
    const sessionId = newSessionId();
    const observer = await observe(sessionId);
    const page = await openConsole();
    await page.setViewportSize({ width: 390, height: 844 });
    await connectPage(page, sessionId);
    const ended = waitForEvent<StreamEnd>(observer, "stream_end");
    await ask(page, observer, "Tell me about gateways");
    await page.getByTestId("typing-indicator").waitFor();
    // The conversation is on screen, and its newest line inside it (followed as chunks come).
    await page.waitForFunction(
      () => {
        const list = document.querySelector('[data-testid="conversation"]');
        const last = list?.lastElementChild;
        if (!list || !last) return false;
        const box = list.getBoundingClientRect();
        const item = last.getBoundingClientRect();
        return (
          box.top >= -1 &&
          box.bottom <= window.innerHeight + 1 &&
          item.top < box.bottom &&
          item.bottom > box.top
        );
      },
      undefined,
      { timeout: 5000 },
    );
    await screenshot(page, "10-narrow-ask");
    await ended;
  });

  /** Whether the conversation's last element is inside its visible area. */
  function lastInView(page: Page): Promise<boolean> {
    return page.getByTestId("conversation").evaluate((list) => {
      const last = list.lastElementChild;
      if (!last) return false;
      const box = list.getBoundingClientRect();
      const item = last.getBoundingClientRect();
      return item.bottom <= box.bottom + 1 && item.bottom > box.top;
    });
  }

  it("keeps the newest content in view through a long answer, a tool call and a cancel", async () => {
    const { observer, page } = await observedConsole();
    await page.setViewportSize({ width: 1280, height: 800 });
    const ended = waitForEvent<StreamEnd>(observer, "stream_end");
    const first = await ask(page, observer, "Tell me a long story about streaming gateways");
    await ended;
    await page.locator(`[data-message-id="${first}"][data-status="done"]`).waitFor();
    expect(await lastInView(page), "after a long answer").to.equal(true);

    await page.getByTestId("quick-calculate").click();
    await page.getByTestId("tool-result").last().waitFor();
    expect(await lastInView(page), "after a tool call").to.equal(true);

    const cancelled = waitForEvent<Cancelled>(observer, "cancelled");
    const second = await ask(page, observer, "Tell me another long story about cancellation");
    await page.waitForFunction(
      (id) =>
        Number(
          document.querySelector(`[data-message-id="${id}"]`)?.getAttribute("data-last-seq"),
        ) >= 2,
      second,
    );
    await page.getByTestId("cancel-button").click();
    await cancelled;
    const stopped = page.locator(`[data-message-id="${second}"][data-status="cancelled"]`);
    await stopped.waitFor();
    expect(
      await stopped.getByTestId("progress").count(),
      "progress bar of a cancelled run",
    ).to.equal(0);
    expect(await lastInView(page), "after a cancel").to.equal(true);

    // A reader who scrolled up keeps their place and is told that more came.
    await page.getByTestId("conversation").evaluate((list) => (list.scrollTop = 0));
    await page.getByTestId("quick-ping").click();
    await page.getByTestId("new-content").waitFor();
    expect(await page.getByTestId("conversation").evaluate((list) => list.scrollTop)).to.equal(0);
    await screenshot(page, "11-new-content");
    await page.getByTestId("new-content").click();
    await page.getByTestId("new-content").waitFor({ state: "hidden" });
    expect(await lastInView(page), "after new content ↓").to.equal(true);
  });

  it("sends nothing before Connect, says why, and marks a refused message as failed", async () => {
    const page = await openConsole();
    expect(await page.getByTestId("send-button").isDisabled()).to.equal(true);
    expect(await page.getByTestId("quick-ask").isDisabled()).to.equal(true);
    expect(await page.getByTestId("composer-hint").textContent()).to.contain("Connect to send");
    await page.getByTestId("schema-form").getByTestId("field-content").fill("hello");
    await page.getByTestId("schema-form").getByTestId("field-content").press("Enter");
    expect(await page.getByTestId("user-message").count()).to.equal(0);
    expect(await page.getByTestId("stat-sent").textContent()).to.equal("0");

    await connectPage(page, newSessionId());
    expect(await page.getByTestId("send-button").isDisabled()).to.equal(false);
    // A misspelt field: the server refuses it, and the bubble says so.
    await page.getByTestId("mode-json").click();
    await page.getByTestId("json-editor").fill(JSON.stringify({ content: "hi", metdata: {} }));
    await page.getByTestId("send-button").click();
    const failed = page.locator('[data-testid="user-message"][data-status="failed"]');
    await failed.getByTestId("send-failed").filter({ hasText: "invalid_payload" }).waitFor();
    await screenshot(page, "12-refused-send");
  });

  it("shows a new handler's ack data and events, from a handler file added to the folder", async () => {
    // At the project's root, so the handlers' "../src/…" imports resolve as in handlers/.
    const custom = await startGatewayWithHandler("word_count.ts", WORD_COUNT_HANDLER);
    try {
      const listed = (await (await fetch(`${custom.url}/api/handlers`)).json()) as {
        handlers: Array<{ type: string }>;
      };
      expect(listed.handlers.map((h) => h.type)).to.include("word_count");
      const page = await openConsole(custom.url);
      await connectPage(page, newSessionId());
      await page.getByTestId("handler-select").selectOption("word_count");
      await page.getByTestId("schema-form").getByTestId("field-text").fill("one two three");
      await page.getByTestId("send-button").click();
      const ack = page.getByTestId("ack-card").filter({ hasText: "word_count" });
      await ack.waitFor();
      expect(await ack.getByTestId("card-json").textContent()).to.contain('"words": 3');
      const event = page.getByTestId("event-card").filter({ hasText: "words_counted" });
      await event.waitFor();
      expect(await event.textContent()).to.match(/"longest": ?"three"/);
      const logged = page.locator(
        '[data-testid="log-entry"][data-type="words_counted"] .log-brief',
      );
      expect(await logged.textContent()).to.contain('"words":3');
      await screenshot(page, "13-new-handler");
    } finally {
      await custom.close();
    }
  });

  it("types a chunk that arrives mid-typing without dropping a character", async () => {
    const page = await openConsole();
    const shown = await page.evaluate(async (moduleUrl) => {
      const { Typewriter } = (await import(moduleUrl)) as {
        Typewriter: new (onIdle: () => void) => {
          timer: ReturnType<typeof setTimeout> | undefined;
          parts: Set<unknown>;
          push(part: unknown, text: string): void;
          tick(): void;
        };
      };
      const typewriter = new Typewriter(() => undefined);
      const part = { node: document.createTextNode(""), target: "", shown: 0 };
      // Ticks by hand, so the interleaving is the same on every run. (No named
      // functions here: the test's compiler would wrap them in a helper the page lacks.)
      // Three characters take two ticks of at least two: the second has one left,
      // where a step of two once went past the end and cost the next chunk its first character.
      typewriter.push(part, "Hi!");
      clearTimeout(typewriter.timer);
      typewriter.tick();
      const partway = part.node.data;
      clearTimeout(typewriter.timer);
      typewriter.tick();
      typewriter.push(part, " there");
      while (typewriter.parts.size > 0) {
        clearTimeout(typewriter.timer);
        typewriter.tick();
      }
      clearTimeout(typewriter.timer);
      return { partway, final: part.node.data };
    }, "/js/conversation.js");
    expect(shown.partway).to.equal("Hi");
    expect(shown.final).to.equal("Hi! there");
  });

  describe("over plain WebSocket", () => {
    /** Resolves once the page's message has shown at least `seq` chunks. */
    function shownUpTo(page: Page, messageId: string, seq: number) {
      return page.waitForFunction(
        ([id, least]) =>
          Number(
            document.querySelector(`[data-message-id="${id}"]`)?.getAttribute("data-last-seq"),
          ) >= Number(least),
        [messageId, seq] as const,
      );
    }

    it("connects over /ws, streams an answer, cancels one, joins a project, and remembers the choice", async () => {
      const { sessionId, observer, page } = await observedConsole("ws");
      const upgrade = plainUpgrades.find((u) => u.url.includes(`session_id=${sessionId}`));
      expect(upgrade, "a plain WebSocket upgrade on /ws in the page's session").to.not.equal(
        undefined,
      );
      const connectionId = (await page.getByTestId("connection-id").textContent()) ?? "";
      expect(server.gateway.io.of("/").sockets.has(connectionId), "a Socket.IO socket").to.equal(
        false,
      );

      // Sent from the composer's form: the reply is an ack frame, shown as over Socket.IO.
      const ended = waitForEvent<StreamEnd>(observer, "stream_end");
      const started = waitForEvent<{ message_id: string }>(observer, "stream_start");
      const content = page.getByTestId("schema-form").getByTestId("field-content");
      await content.fill("Tell me about plain WebSocket frames");
      await content.press("Enter");
      const { message_id: answered } = await started;
      await page.getByTestId("ack-result").filter({ hasText: "message accepted" }).waitFor();
      const end = await ended;
      const message = page.locator(`[data-testid="agent-message"][data-message-id="${answered}"]`);
      await message.getByTestId("done-mark").waitFor();
      expect(await shownText(page, answered)).to.equal(end.total_content);
      expect(await message.getAttribute("data-mismatch")).to.equal(null);
      await screenshot(page, "14-plain-ws-answer");

      const cancelled = waitForEvent<Cancelled>(observer, "cancelled");
      const stopped = await ask(page, observer, "Tell me a long story about frames and acks");
      await shownUpTo(page, stopped, 3);
      await page.getByTestId("cancel-button").click();
      const event = await cancelled;
      expect(event.message_id).to.equal(stopped);
      const stoppedMessage = page.locator(`[data-message-id="${stopped}"]`);
      await stoppedMessage.getByTestId("message-status").filter({ hasText: "cancelled" }).waitFor();
      expect(await shownText(page, stopped)).to.equal(event.partial_content);
      await page.getByTestId("ack-result").filter({ hasText: "cancel accepted" }).waitFor();

      await page.getByTestId("quick-project").fill("plain-project");
      await page.getByTestId("quick-join").click();
      await page.getByTestId("joined-note").filter({ hasText: "plain-project" }).waitFor();

      await page.reload();
      await page.waitForSelector('[data-testid="handler-select"][data-loaded="true"]');
      expect(await page.getByTestId("transport-select").inputValue()).to.equal("ws");
      expect(browser.problems).to.deep.equal([]);
    });

    it("reconnects by itself after the network drops it and resumes from the last seq", async () => {
      const { sessionId, observer, page } = await observedConsole("ws");
      const firstConnection = await page.getByTestId("connection-id").textContent();
      const ended = waitForEvent<StreamEnd>(observer, "stream_end");
      const messageId = await ask(page, observer, "Explain resumption over plain WebSocket");
      await shownUpTo(page, messageId, 3);
      const upgrades = plainUpgrades.filter((u) => u.url.includes(`session_id=${sessionId}`));
      expect(upgrades).to.have.length(1);
      // No closing handshake: the browser sees an abnormal close (1006), as after a network failure.
      upgrades[0]!.socket.destroy();
      await page.waitForSelector('[data-testid="log-entry"][data-type="reconnect_attempt"]');
      await page.waitForFunction((before) => {
        const state = document.querySelector('[data-testid="connection-state"]');
        const id = document.querySelector('[data-testid="connection-id"]')?.textContent;
        return state?.getAttribute("data-state") === "connected" && id !== before && id !== "—";
      }, firstConnection);
      expect(await page.getByTestId("session-id").textContent()).to.equal(sessionId);
      const resume = page.locator(
        '[data-testid="log-entry"][data-type="resume"][data-direction="out"]',
      );
      await resume.waitFor();
      await resume.locator("summary").click();
      const asked = JSON.parse((await resume.getByTestId("log-json").textContent()) ?? "") as {
        message_id: string;
        after_seq: number;
      };
      expect(asked.message_id).to.equal(messageId);
      expect(asked.after_seq).to.be.at.least(3);
      const end = await ended;
      const message = page.locator(`[data-testid="agent-message"][data-message-id="${messageId}"]`);
      await message.getByTestId("done-mark").waitFor();
      expect(await shownText(page, messageId)).to.equal(end.total_content);
      expect(await message.getAttribute("data-mismatch")).to.equal(null);
      await screenshot(page, "15-plain-ws-reconnected");
    });

    it("shows events named like Object's own keys, with markup, as inert cards over both transports", async () => {
      const custom = await startGatewayWithHandler("odd_events.ts", ODD_EVENTS_HANDLER);
      try {
        for (const transport of ["socketio", "ws"] as const) {
          const problemsBefore = browser.problems.length;
          const page = await openConsole(custom.url);
          await connectPage(page, newSessionId(), transport);
          await page.getByTestId("handler-select").selectOption("odd_events");
          await page.getByTestId("send-button").click();
          await page.getByTestId("ack-result").filter({ hasText: "odd_events accepted" }).waitFor();
          const cards = page.getByTestId("event-card");
          await cards.nth(ODD_EVENT_NAMES.length - 1).waitFor();
          const shown = await cards.evaluateAll((els) =>
            els.map((el) => ({
              title: el.querySelector("summary strong")?.textContent,
              json: el.querySelector('[data-testid="card-json"]')?.textContent ?? "",
            })),
          );
          expect(shown.map((card) => card.title)).to.deep.equal(ODD_EVENT_NAMES);
          for (const card of shown) expect(card.json, card.title ?? "").to.contain("<img src=x>");
          expect(await page.getByTestId("conversation").locator("img").count()).to.equal(0);
          expect(await page.evaluate(() => "polluted" in {})).to.equal(false);
          await page.getByTestId("quick-ping").click();
          await page.getByTestId("pong").waitFor();
          expect(browser.problems.slice(problemsBefore), transport).to.deep.equal([]);
          await page.close();
        }
      } finally {
        await custom.close();
      }
    });

    it("is refused with a bad token, and connects with a valid one", async () => {
      const secured = await startGateway({ AUTH_JWT_SECRET: JWT_SECRET });
      try {
        const page = await openConsole(secured.url);
        await page.getByTestId("transport-select").selectOption("ws");
        await page.getByTestId("token-input").fill("not-a-jwt");
        await page.getByTestId("connect-button").click();
        await settledConnection(page, "refused");
        expect(await page.getByTestId("send-button").isDisabled()).to.equal(true);
        const token = await new SignJWT({})
          .setProtectedHeader({ alg: "HS256" })
          .setSubject("browser-user")
          .setExpirationTime("5m")
          .sign(new TextEncoder().encode(JWT_SECRET));
        await page.getByTestId("token-input").fill(token);
        await page.getByTestId("connect-button").click();
        await settledConnection(page, "connected");
        await page.getByTestId("quick-ping").click();
        await page.getByTestId("pong").waitFor();
      } finally {
        await secured.close();
      }
    });
  });
});

const WORD_COUNT_HANDLER = `import { defineHandler, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "word_count",
  description: "Counts the words of a text and tells the connection the longest one.",
  schema: Type.Object({ text: Type.String({ minLength: 1, maxLength: 1000 }) }),
  handle({ text }, ctx) {
    const words = text.split(/\\s+/).filter(Boolean);
    const longest = words.reduce((a, b) => (b.length > a.length ? b : a), "");
    (ctx.emit as (type: string, data: unknown) => void)("words_counted", { words: words.length, longest });
    return { words: words.length };
  },
});
`;

const ODD_EVENT_NAMES = ["constructor", "toString", "__proto__", "hasOwnProperty"];

/** Emits events whose names are Object's own keys, each carrying markup and a __proto__ field. */
const ODD_EVENTS_HANDLER = `import { defineHandler, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "odd_events",
  description: "Emits events named like Object's own keys.",
  schema: Type.Object({}),
  handle(_payload, ctx) {
    const emit = ctx.emit as (type: string, data: unknown) => void;
    for (const name of ${JSON.stringify(ODD_EVENT_NAMES)}) {
      emit(name, JSON.parse('{"note": "<img src=x>", "__proto__": {"polluted": true}}'));
    }
    return {};
  },
});
`;
