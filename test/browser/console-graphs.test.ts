import { expect } from "chai";
import type { Page } from "playwright-core";
import type { Socket as ClientSocket } from "socket.io-client";
import { launchBrowser, screenshot, type RunningBrowser } from "../support/browser.js";
import { connect, startGateway, type RunningGateway } from "../support/gateway.js";

interface Interrupted {
  message_id: string;
  graph: string;
  interrupts: Array<{ id: string; value: { question: string; draft: string } }>;
}

interface StreamEnd {
  message_id: string;
  total_content: string;
}

interface GraphInfo {
  name: string;
  description: string;
  default: boolean;
}

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

const forMessage =
  (id: string) =>
  (event: { message_id: string }): boolean =>
    event.message_id === id;

describe("test console with graphs (interrupts, custom events, history) in a real browser", function () {
  this.timeout(60_000);

  let server: RunningGateway;
  let browser: RunningBrowser;
  const observers: ClientSocket[] = [];
  let sessionCounter = 0;

  before(async () => {
    browser = await launchBrowser();
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "5" });
  });

  after(async () => {
    for (const socket of observers) socket.close();
    await browser?.close();
    await server?.close();
  });

  afterEach(async () => {
    for (const page of browser.context.pages()) await page.close();
  });

  /** A console connected to a new session, with a second real client in that session. */
  async function observedConsole(transport: "socketio" | "ws" = "socketio") {
    const sessionId = `browser-graphs-${process.pid}-${++sessionCounter}`;
    const { socket: observer } = await connect(server.url, { session_id: sessionId });
    observers.push(observer);
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/`);
    await loaded(page);
    // The graph choice is remembered per browser profile: every test starts from the default.
    await page.evaluate(() => localStorage.removeItem("agent-gateway-console.graph"));
    await page.reload();
    await loaded(page);
    await page.getByTestId("transport-select").selectOption(transport);
    await page.getByTestId("session-id-input").fill(sessionId);
    await connectPage(page);
    return { sessionId, observer, page };
  }

  async function loaded(page: Page): Promise<void> {
    await page.waitForSelector('[data-testid="handler-select"][data-loaded="true"]');
    await page.waitForSelector('[data-testid="graph-select"][data-loaded="true"]');
  }

  async function connectPage(page: Page): Promise<void> {
    await page.getByTestId("connect-button").click();
    await page.waitForSelector('[data-testid="connection-state"][data-state="connected"]');
  }

  /** Sends a message to the approval graph from the composer; resolves once its run paused. */
  async function askForApproval(page: Page, observer: ClientSocket, content: string) {
    await page.getByTestId("graph-select").selectOption("approval");
    await page.getByTestId("handler-select").selectOption("message");
    const started = waitForEvent<{ message_id: string; graph: string }>(observer, "stream_start");
    const paused = waitForEvent<Interrupted>(observer, "run_interrupted");
    await page.getByTestId("field-content").fill(content);
    await page.getByTestId("send-button").click();
    const start = await started;
    expect(start.graph).to.equal("approval");
    const interrupted = await paused;
    expect(interrupted.message_id).to.equal(start.message_id);
    return interrupted;
  }

  const cardOf = (page: Page, messageId: string) =>
    page.locator(`[data-testid="interrupt-card"][data-message-id="${messageId}"]`);

  /** The agent message's text after the resume (what the resumed run streamed), once typed out. */
  async function resumedText(page: Page, messageId: string): Promise<string> {
    await page.waitForSelector(
      `[data-testid="agent-message"][data-message-id="${messageId}"][data-status="done"]`,
    );
    return page
      .locator(`[data-testid="agent-message"][data-message-id="${messageId}"]`)
      .evaluate((el) => {
        const parts = Array.from(el.querySelectorAll('[data-testid="message-text"]'));
        const mark = el.querySelector('[data-testid="resumed-mark"]');
        return parts
          .filter((p) => mark && mark.compareDocumentPosition(p) & Node.DOCUMENT_POSITION_FOLLOWING)
          .map((p) => p.textContent ?? "")
          .join("");
      });
  }

  it("offers the graphs of /api/graphs with the default chosen, and sends the chosen graph", async () => {
    const { page } = await observedConsole();
    const body = (await (await fetch(`${server.url}/api/graphs`)).json()) as {
      graphs: GraphInfo[];
    };
    const select = page.getByTestId("graph-select");
    const offered = await select.evaluate((el: HTMLSelectElement) =>
      Array.from(el.options).map((o) => ({ name: o.value, title: o.title })),
    );
    expect(offered).to.deep.equal(body.graphs.map((g) => ({ name: g.name, title: g.description })));
    const byDefault = body.graphs.find((g) => g.default);
    expect(await select.inputValue()).to.equal(byDefault?.name);
    await select.selectOption("approval");
    const approval = body.graphs.find((g) => g.name === "approval");
    expect(await select.getAttribute("title")).to.equal(approval?.description);
    expect(browser.problems).to.deep.equal([]);
  });

  it("shows the interrupt as a card with the question and draft, and Approve sends the draft", async () => {
    const { observer, page } = await observedConsole();
    const paused = await askForApproval(page, observer, "Write one line about gateways");
    const id = paused.message_id;
    const { question, draft } = paused.interrupts[0]!.value;
    const card = cardOf(page, id);
    await card.waitFor();
    expect(await card.getByTestId("interrupt-question").textContent()).to.equal(question);
    expect(await card.getByTestId("interrupt-draft").textContent()).to.equal(draft);
    expect(
      JSON.parse((await card.getByTestId("interrupt-value").textContent()) ?? "null"),
    ).to.deep.equal(paused.interrupts[0]!.value);
    // The graph's custom event: a line in the conversation and an entry in the log.
    await page
      .getByTestId("custom-event")
      .filter({ hasText: "review_requested" })
      .filter({ hasText: `"characters": ${draft.length}` })
      .waitFor();
    await page.locator('[data-testid="log-entry"][data-type="custom_event"]').first().waitFor();
    expect(
      await page
        .locator(`[data-testid="agent-message"][data-message-id="${id}"]`)
        .getAttribute("data-status"),
    ).to.equal("interrupted");
    expect(await page.getByTestId("typing-indicator").isHidden()).to.equal(true);
    await screenshot(page, "graphs-01-interrupt-card");
    await page.setViewportSize({ width: 390, height: 844 });
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: "test-artifacts/graphs-02-interrupt-card-narrow.png" });
    await page.setViewportSize({ width: 1360, height: 900 });

    const ended = waitForEvent<StreamEnd>(observer, "stream_end", forMessage(id));
    await card.getByTestId("interrupt-approve").click();
    expect((await ended).total_content).to.equal(`Sent: ${draft}`);
    await page.waitForSelector(
      `[data-testid="agent-message"][data-message-id="${id}"][data-status="done"]`,
    );
    expect(await resumedText(page, id)).to.equal(`Sent: ${draft}`);
    await cardOf(page, id).and(page.locator('[data-state="resumed"]')).waitFor();
    expect(await card.getByTestId("interrupt-approve").isDisabled()).to.equal(true);
    expect(await card.getByTestId("interrupt-result").textContent()).to.contain("accepted");
    expect(await page.getByTestId("mismatch").count()).to.equal(0);
    await screenshot(page, "graphs-03-approved");
    expect(browser.problems).to.deep.equal([]);
  });

  it("sends nothing for invalid JSON in Edit JSON, says why, and resumes with the fixed JSON", async () => {
    const { observer, page } = await observedConsole();
    const paused = await askForApproval(page, observer, "Draft a greeting");
    const id = paused.message_id;
    const card = cardOf(page, id);
    await card.getByTestId("interrupt-edit").click();
    const editor = card.getByTestId("interrupt-json");
    expect(JSON.parse(await editor.inputValue())).to.deep.equal(paused.interrupts[0]!.value);
    const sentBefore = await page.getByTestId("stat-sent").textContent();
    await editor.fill('{"edit": "Hello there",}');
    await card.getByTestId("interrupt-json-send").click();
    const error = card.getByTestId("interrupt-json-error");
    await error.waitFor();
    expect(await error.textContent()).to.match(/^Not valid JSON: /);
    expect(await page.getByTestId("stat-sent").textContent()).to.equal(sentBefore);
    expect(
      await page.locator('[data-testid="log-entry"][data-type="resume_run"]').count(),
    ).to.equal(0);
    expect(await card.getAttribute("data-state")).to.equal("waiting");
    await screenshot(page, "graphs-04-invalid-json");

    const ended = waitForEvent<StreamEnd>(observer, "stream_end", forMessage(id));
    await editor.fill('{"edit": "Hello there"}');
    await card.getByTestId("interrupt-json-send").click();
    expect((await ended).total_content).to.equal("Sent: Hello there");
    expect(await error.isHidden()).to.equal(true);
    await cardOf(page, id).and(page.locator('[data-state="resumed"]')).waitFor();
    expect(await resumedText(page, id)).to.equal("Sent: Hello there");
    expect(browser.problems).to.deep.equal([]);
  });

  it("shows state updates and custom events in their place among the chunks (they share the seq)", async () => {
    const { observer, page } = await observedConsole();
    await page.getByTestId("handler-select").selectOption("message");
    await page.getByTestId("mode-json").click();
    const editor = page.getByTestId("json-editor");
    await editor.fill(
      JSON.stringify({
        content: "Show me the steps",
        graph: "approval",
        stream_modes: ["updates"],
      }),
    );
    const paused = waitForEvent<Interrupted>(observer, "run_interrupted");
    await editor.press("Enter");
    const { message_id: id } = await paused;
    const message = page.locator(`[data-testid="agent-message"][data-message-id="${id}"]`);
    await message.and(page.locator('[data-status="interrupted"]')).waitFor();
    // The order the page shows: the draft's text, then the draft node's update, then the review event.
    const shown = await message.evaluate((el) =>
      Array.from(
        el.querySelectorAll(
          '[data-testid="message-text"], [data-testid="state-update"], [data-testid="custom-event"]',
        ),
      ).map((node) => (node as HTMLElement).dataset["testid"]),
    );
    expect(shown.filter((t, i) => t !== shown[i - 1])).to.deep.equal([
      "message-text",
      "state-update",
      "custom-event",
    ]);
    expect(await message.getByTestId("state-update").first().getAttribute("data-node")).to.equal(
      "draft",
    );
    await cardOf(page, id).waitFor();
    expect(browser.problems).to.deep.equal([]);
  });

  it("disables the card when another client of the session answers, and shows the refusal of a late answer", async () => {
    const { observer, page } = await observedConsole();
    const { message_id: id } = await askForApproval(page, observer, "Draft a reply");
    const card = cardOf(page, id);
    await card.waitFor();
    const ended = waitForEvent(observer, "stream_end", forMessage(id));
    const ack = (await observer.emitWithAck("resume_run", { message_id: id, resume: false })) as {
      ok: boolean;
    };
    expect(ack.ok).to.equal(true);
    await ended;
    await cardOf(page, id).and(page.locator('[data-state="resumed"]')).waitFor();
    for (const button of ["interrupt-approve", "interrupt-reject", "interrupt-edit"])
      expect(await card.getByTestId(button).isDisabled()).to.equal(true);
    expect(await resumedText(page, id)).to.equal("The draft was rejected.");
    // A page that missed the resume (it was offline) learns it from the refusal.
    const late = await askForApproval(page, observer, "Draft another reply");
    const lateCard = cardOf(page, late.message_id);
    await lateCard.waitFor();
    await page.getByTestId("disconnect-button").click();
    await page.waitForSelector('[data-testid="connection-state"][data-state="disconnected"]');
    const lateEnd = waitForEvent(observer, "stream_end", forMessage(late.message_id));
    expect(
      (
        (await observer.emitWithAck("resume_run", {
          message_id: late.message_id,
          resume: true,
        })) as { ok: boolean }
      ).ok,
    ).to.equal(true);
    await lateEnd;
    await connectPage(page);
    await lateCard.getByTestId("interrupt-approve").click();
    await lateCard.and(page.locator('[data-state="refused"]')).waitFor();
    expect(await lateCard.getByTestId("interrupt-result").textContent()).to.match(
      /^✗ not_interrupted — /,
    );
    expect(await lateCard.getByTestId("interrupt-approve").isDisabled()).to.equal(true);
    expect(browser.problems).to.deep.equal([]);
  });

  for (const transport of ["socketio", "ws"] as const) {
    it(`restores the conversation and the pending interrupt card after a reload (${transport})`, async () => {
      const { sessionId, observer, page } = await observedConsole(transport);
      const first = await askForApproval(page, observer, "First question");
      const firstEnd = waitForEvent<StreamEnd>(
        observer,
        "stream_end",
        forMessage(first.message_id),
      );
      await cardOf(page, first.message_id).getByTestId("interrupt-approve").click();
      const sent = (await firstEnd).total_content;
      const second = await askForApproval(page, observer, "Second question");
      await cardOf(page, second.message_id).waitFor();

      await page.reload();
      await loaded(page);
      expect(await page.getByTestId("session-id-input").inputValue()).to.equal(sessionId);
      expect(await page.getByTestId("graph-select").inputValue()).to.equal("approval");
      expect(await page.getByTestId("transport-select").inputValue()).to.equal(transport);
      await connectPage(page);
      const card = cardOf(page, second.message_id);
      await card.waitFor();
      expect(await card.getByTestId("interrupt-draft").textContent()).to.equal(
        second.interrupts[0]!.value.draft,
      );
      const users = await page
        .locator('[data-testid="user-message"][data-history="true"] .bubble')
        .allTextContents();
      expect(users).to.deep.equal(["First question", "Second question"]);
      const answers = await page
        .locator('[data-testid="history-answer"] [data-testid="message-text"]')
        .allTextContents();
      expect(answers).to.deep.equal([
        first.interrupts[0]!.value.draft,
        sent,
        second.interrupts[0]!.value.draft,
      ]);
      await screenshot(page, `graphs-05-restored-${transport}`);

      // The restored card answers the run, and the answer streams into the page.
      const ended = waitForEvent<StreamEnd>(observer, "stream_end", forMessage(second.message_id));
      await card.getByTestId("interrupt-reject").click();
      expect((await ended).total_content).to.equal("The draft was rejected.");
      await cardOf(page, second.message_id).and(page.locator('[data-state="resumed"]')).waitFor();
      expect(browser.problems).to.deep.equal([]);
    });
  }
});
