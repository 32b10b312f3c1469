import { h } from "./dom.js";

/** The most get_history answers in one page (the handler's ceiling). */
export const HISTORY_LIMIT = 100;

/**
 * Shows a get_history answer: the earlier conversation (when `full`), and the
 * card of a run still waiting for resume_run unless the page shows it already.
 */
export function showHistory(page, { conversation, cards, full }) {
  const messages = Array.isArray(page?.messages) ? page.messages : [];
  if (full && messages.length > 0) {
    conversation.addNote(
      "info",
      `Earlier in this conversation with ${page.graph}${page.has_more ? " (older messages not shown)" : ""}`,
      "history-note",
    );
    for (const message of messages) showMessage(conversation, message);
  }
  const waiting = page?.interrupted;
  if (waiting && !cards.has(waiting.message_id))
    cards.show({
      message_id: waiting.message_id,
      graph: page.graph,
      interrupts: waiting.interrupts,
    });
}

function showMessage(conversation, message) {
  const content = typeof message.content === "string" ? message.content : "";
  if (message.role === "user") {
    conversation.addUser(content).dataset.history = "true";
    return;
  }
  if (message.role === "assistant") {
    const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
    conversation.append(
      h(
        "li",
        { class: "turn-agent", dataset: { testid: "history-answer", status: "done" } },
        h("div", { class: "who" }, h("span", { class: "who-name" }, message.name ?? "Agent")),
        h(
          "div",
          { class: "bubble" },
          calls.map((call) =>
            h(
              "div",
              { class: "tool-block", dataset: { testid: "tool-call", tool: call.name } },
              h("span", { class: "tool-badge", "aria-hidden": "true" }, "tool"),
              h("span", { class: "tool-name" }, call.name),
              h("code", { class: "tool-input" }, compactJson(call.args)),
            ),
          ),
          content
            ? h("span", { class: "msg-text", dataset: { testid: "message-text" } }, content)
            : null,
        ),
      ),
    );
    return;
  }
  if (message.role === "tool") {
    conversation.addNote(
      "tool",
      [
        h("span", { class: "tool-badge", "aria-hidden": "true" }, "tool"),
        h("span", { class: "tool-name" }, message.name ?? "result"),
        h("span", { class: "tool-arrow", "aria-hidden": "true" }, "→"),
        h("span", { class: "tool-result" }, content),
      ],
      "history-tool-result",
    );
  }
  // System prompts are the graph's own business: not part of what the reader said or heard.
}

function compactJson(value) {
  const text = JSON.stringify(value ?? {}) ?? "";
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
