import { buildForm } from "./composer.js";
import { h, pretty } from "./dom.js";

/** The composer: the event types of /api/handlers, a form per type, and a raw JSON editor. */
export class ComposerPanel {
  constructor(ui) {
    this.ui = ui;
    this.handlers = new Map();
    this.form = undefined;
    this.jsonMode = false;
    ui.handlerSelect.addEventListener("change", () => this.selectHandler());
    ui.modeForm.addEventListener("click", () => this.setMode(false));
    ui.modeJson.addEventListener("click", () => this.setMode(true));
  }

  get type() {
    return this.ui.handlerSelect.value;
  }

  async loadHandlers(baseUrl) {
    const { ui } = this;
    ui.handlerDescription.textContent = "Loading handlers…";
    try {
      const response = await fetch(`${baseUrl}/api/handlers`, {
        headers: { accept: "application/json" },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      this.handlers = new Map(body.handlers.map((d) => [d.type, d]));
    } catch (error) {
      this.handlers = new Map();
      ui.handlerDescription.textContent = `Could not load /api/handlers: ${error.message}. Use the raw JSON editor.`;
    }
    const previous = ui.handlerSelect.value;
    ui.handlerSelect.replaceChildren(
      ...[...this.handlers.values()].map((d) =>
        h("option", { value: d.type, title: d.description }, d.type),
      ),
    );
    ui.handlerSelect.dataset.loaded = "true";
    if (this.handlers.has(previous)) ui.handlerSelect.value = previous;
    else if (this.handlers.has("message")) ui.handlerSelect.value = "message";
    this.selectHandler();
  }

  selectHandler() {
    const { ui } = this;
    const def = this.handlers.get(this.type);
    if (!def) {
      this.form = undefined;
      ui.schemaForm.replaceChildren();
      if (this.handlers.size > 0) ui.handlerDescription.textContent = "";
      return;
    }
    ui.handlerDescription.textContent = def.description;
    this.form = buildForm(def.type, def.schema);
    ui.schemaForm.replaceChildren(this.form.el);
    if (this.jsonMode) ui.jsonEditor.value = this.formJson();
  }

  formJson() {
    try {
      return pretty(this.form ? this.form.read() : {});
    } catch {
      return "{}";
    }
  }

  setMode(json) {
    const { ui } = this;
    if (json === this.jsonMode) return;
    if (json) ui.jsonEditor.value = this.formJson();
    else if (this.form) {
      try {
        this.form.write(JSON.parse(ui.jsonEditor.value || "{}"));
      } catch {
        /* keep the form as it was */
      }
    }
    this.jsonMode = json;
    // The hidden form's required inputs must not block sending raw JSON.
    ui.composer.noValidate = json;
    ui.jsonField.hidden = !json;
    ui.schemaForm.hidden = json;
    ui.modeForm.setAttribute("aria-pressed", String(!json));
    ui.modeJson.setAttribute("aria-pressed", String(json));
    (json ? ui.jsonEditor : ui.schemaForm.querySelector("input, textarea, select"))?.focus();
  }

  /** The payload to send; throws on JSON that does not parse or a bad field. */
  readPayload() {
    if (this.jsonMode) return JSON.parse(this.ui.jsonEditor.value.trim() || "{}");
    return this.form ? this.form.read() : {};
  }

  /** After a message is accepted: the next one starts blank. */
  clearFreeText() {
    if (this.jsonMode || !this.form) return;
    for (const field of this.form.fields)
      if (["content", "query"].includes(field.name)) field.input.value = "";
  }
}
