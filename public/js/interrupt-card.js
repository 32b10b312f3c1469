import { h, pretty } from "./dom.js";

/** Refusals after which the run is not waiting any more: answering again cannot help. */
const FINAL_REFUSALS = new Set(["not_interrupted", "interrupt_expired"]);

/**
 * The cards of runs paused at interrupt(): each shows what the graph asks and
 * answers it with resume_run. A card disables itself once its run goes on,
 * whichever client of the session resumed it.
 */
export class InterruptCards {
  /**
   * @param {import("./conversation.js").Conversation} conversation
   * @param {(type: string, payload: object) => Promise<{ok: boolean, error?: {code: string, message: string}}>} send
   */
  constructor(conversation, send) {
    this.conversation = conversation;
    this.send = send;
    this.cards = new Map();
  }

  /** After the conversation was cleared: its cards are gone with it. */
  forget() {
    this.cards.clear();
  }

  has(messageId) {
    return this.cards.has(messageId);
  }

  /** run_interrupted, or get_history's `interrupted`: {message_id, graph?, interrupts}. */
  show({ message_id: messageId, graph, interrupts }) {
    if (!Array.isArray(interrupts) || interrupts.length === 0) return;
    this.cards.get(messageId)?.el.remove();
    const card = buildCard(messageId, graph, interrupts);
    this.cards.set(messageId, card);
    card.approve.addEventListener(
      "click",
      () => void this.answer(card, answerAll(interrupts, true)),
    );
    card.reject.addEventListener(
      "click",
      () => void this.answer(card, answerAll(interrupts, false)),
    );
    card.edit.addEventListener("click", () => openEditor(card, interrupts));
    card.cancelEdit.addEventListener("click", () => closeEditor(card));
    card.sendEdit.addEventListener("click", () => {
      let value;
      try {
        value = JSON.parse(card.textarea.value);
      } catch (error) {
        // Nothing is sent: the reader fixes the JSON first.
        card.jsonError.textContent = `Not valid JSON: ${error.message}`;
        card.jsonError.hidden = false;
        card.textarea.setAttribute("aria-invalid", "true");
        return;
      }
      card.jsonError.hidden = true;
      card.textarea.removeAttribute("aria-invalid");
      void this.answer(card, value);
    });
    this.conversation.append(card.el);
  }

  /** stream_start with resumed: true for this message, from any client of the session. */
  resumed(messageId) {
    const card = this.cards.get(messageId);
    if (!card) return;
    card.el.dataset.state = "resumed";
    card.status.textContent = "✓ Answered: the run went on.";
    setEnabled(card, false);
  }

  async answer(card, resume) {
    if (card.el.dataset.state === "resumed") return;
    setEnabled(card, false);
    card.el.dataset.state = "sending";
    card.result.dataset.ok = "";
    card.result.textContent = "Sending…";
    const ack = await this.send("resume_run", { message_id: card.messageId, resume });
    if (card.el.dataset.state === "resumed") {
      if (!ack.ok) showRefusal(card, ack.error);
      return;
    }
    if (ack.ok) {
      card.el.dataset.state = "sent";
      card.result.dataset.ok = "true";
      card.result.textContent = "✓ resume_run accepted";
      return;
    }
    showRefusal(card, ack.error);
    card.el.dataset.state = "refused";
    if (!FINAL_REFUSALS.has(ack.error?.code)) setEnabled(card, true);
  }
}

/** One answer for every interrupt: the bare value for one, {<id>: value} for several. */
function answerAll(interrupts, value) {
  if (interrupts.length === 1) return value;
  return Object.fromEntries(interrupts.map((i) => [i.id, value]));
}

function editorValue(interrupts) {
  if (interrupts.length === 1) return interrupts[0].value;
  return Object.fromEntries(interrupts.map((i) => [i.id, i.value]));
}

function showRefusal(card, error) {
  card.result.dataset.ok = "false";
  card.result.textContent = `✗ ${error?.code ?? "error"} — ${error?.message ?? ""}`;
}

function setEnabled(card, enabled) {
  for (const control of [card.approve, card.reject, card.edit, card.sendEdit, card.textarea])
    control.disabled = !enabled;
}

function openEditor(card, interrupts) {
  card.editor.hidden = false;
  if (card.textarea.value === "") card.textarea.value = pretty(editorValue(interrupts));
  card.textarea.focus();
}

function closeEditor(card) {
  card.editor.hidden = true;
  card.jsonError.hidden = true;
}

/** What the graph asks: a question and a draft read as text, anything else as JSON. */
function valueView(value) {
  const asks = value && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  const question = typeof asks?.question === "string" ? asks.question : undefined;
  const draft = typeof asks?.draft === "string" ? asks.draft : undefined;
  const json = h(
    "pre",
    { class: "interrupt-json", dataset: { testid: "interrupt-value" } },
    pretty(value),
  );
  if (question === undefined && draft === undefined) return json;
  return h(
    "div",
    { class: "interrupt-readable" },
    question === undefined
      ? null
      : h(
          "p",
          { class: "interrupt-question", dataset: { testid: "interrupt-question" } },
          question,
        ),
    draft === undefined
      ? null
      : h(
          "blockquote",
          { class: "interrupt-draft", dataset: { testid: "interrupt-draft" } },
          draft,
        ),
    h("details", { class: "interrupt-raw" }, h("summary", {}, "JSON"), json),
  );
}

function buildCard(messageId, graph, interrupts) {
  const button = (label, testid, extra = "") =>
    h("button", { type: "button", class: `btn btn-small ${extra}`, dataset: { testid } }, label);
  const approve = button("Approve", "interrupt-approve", "btn-primary");
  const reject = button("Reject", "interrupt-reject", "btn-danger");
  const edit = button("Edit JSON…", "interrupt-edit");
  const sendEdit = button("Send as resume", "interrupt-json-send", "btn-primary");
  const cancelEdit = button("Close", "interrupt-json-close");
  const textareaId = `interrupt-json-${messageId}`;
  const textarea = h("textarea", {
    id: textareaId,
    rows: "6",
    class: "mono",
    spellcheck: "false",
    dataset: { testid: "interrupt-json" },
  });
  const jsonError = h("p", {
    class: "interrupt-json-error",
    role: "alert",
    hidden: true,
    dataset: { testid: "interrupt-json-error" },
  });
  const editor = h(
    "div",
    { class: "interrupt-editor", hidden: true },
    h("label", { class: "field", for: textareaId }, h("span", {}, "resume (JSON)"), textarea),
    jsonError,
    h("div", { class: "interrupt-buttons" }, sendEdit, cancelEdit),
  );
  const result = h("output", {
    class: "ack interrupt-result",
    "aria-live": "polite",
    dataset: { testid: "interrupt-result" },
  });
  const status = h("p", { class: "interrupt-status", dataset: { testid: "interrupt-status" } });
  const el = h(
    "li",
    {
      class: "interrupt-card",
      role: "group",
      "aria-label": "The run waits for your answer",
      dataset: { testid: "interrupt-card", messageId, state: "waiting" },
    },
    h(
      "div",
      { class: "interrupt-head" },
      h("span", { class: "graph-badge interrupt-badge" }, "interrupt"),
      h("strong", {}, "Waiting for your answer"),
      graph ? h("span", { class: "muted small" }, ` · ${graph}`) : null,
    ),
    interrupts.map((i) =>
      h("div", { class: "interrupt-item", dataset: { interruptId: i.id } }, valueView(i.value)),
    ),
    h("div", { class: "interrupt-buttons" }, approve, reject, edit, result),
    editor,
    status,
  );
  return {
    messageId,
    el,
    approve,
    reject,
    edit,
    sendEdit,
    cancelEdit,
    textarea,
    jsonError,
    editor,
    result,
    status,
  };
}
