import { h, pretty } from "./dom.js";

const LONG_TEXT_FIELDS = new Set(["content", "query", "topic", "message", "text", "prompt"]);

/** The JSON type of a schema node, or "json" when it is not a simple one. */
function kindOf(schema) {
  if (!schema || typeof schema !== "object") return "json";
  const options = literalOptions(schema);
  if (options) return "choice";
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (["string", "number", "integer", "boolean"].includes(type)) return type;
  return "json";
}

/** The allowed values of an enum or a union of constants (TypeBox's Union of Literals). */
function literalOptions(schema) {
  if (Array.isArray(schema.enum)) return schema.enum;
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union) && union.length > 0 && union.every((s) => s && "const" in s)) {
    return union.map((s) => s.const);
  }
  return undefined;
}

/**
 * A form for one handler's JSON Schema: an input per property of its
 * `properties`. `read()` returns the payload, or throws naming the bad field.
 */
export function buildForm(type, schema) {
  const properties = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  const fields = [];
  const container = h("div", { class: "form-grid" });
  const optionalGrid = h("div", { class: "form-grid" });
  for (const [name, prop] of Object.entries(properties)) {
    const id = `field-${type}-${name}`;
    const kind = kindOf(prop);
    const isRequired = required.has(name);
    const hint = prop.description ?? prop.title;
    let input;
    if (kind === "choice") {
      const options = literalOptions(prop);
      input = h(
        "select",
        { id, name },
        isRequired ? null : h("option", { value: "" }, "—"),
        options.map((value) => h("option", { value: JSON.stringify(value) }, String(value))),
      );
      if (prop.default !== undefined) input.value = JSON.stringify(prop.default);
    } else if (kind === "boolean") {
      input = h("input", { id, name, type: "checkbox" });
      input.checked = prop.default === true;
    } else if (kind === "number" || kind === "integer") {
      input = h("input", {
        id,
        name,
        type: "number",
        step: kind === "integer" ? "1" : "any",
        min: prop.minimum,
        max: prop.maximum,
        required: isRequired,
        placeholder: hint,
      });
      if (prop.default !== undefined) input.value = String(prop.default);
    } else if (kind === "string") {
      const long = LONG_TEXT_FIELDS.has(name) || (prop.maxLength ?? 0) > 500;
      input = h(long ? "textarea" : "input", {
        id,
        name,
        rows: long ? "3" : undefined,
        type: long ? undefined : "text",
        required: isRequired,
        maxlength: prop.maxLength,
        placeholder: hint ?? (prop.pattern ? `matches ${prop.pattern}` : undefined),
      });
      if (prop.default !== undefined) input.value = String(prop.default);
    } else {
      const empty = prop.type === "array" ? "[]" : "{}";
      input = h("textarea", {
        id,
        name,
        rows: "3",
        class: "mono",
        spellcheck: "false",
        placeholder: hint ?? (isRequired ? undefined : `${empty} (optional JSON)`),
      });
      // Optional JSON starts empty (and is left out); required JSON starts as its default.
      if (prop.default !== undefined) input.value = pretty(prop.default);
      else if (isRequired) input.value = empty;
    }
    input.dataset.testid = `field-${name}`;
    const label = h(
      "label",
      { class: `field field-${kind}`, for: id },
      h("span", {}, name, isRequired ? h("abbr", { title: "required", class: "req" }, " *") : null),
    );
    if (kind === "boolean") label.prepend(input);
    const wrap = h(
      "div",
      { class: `form-row kind-${kind}` },
      label,
      kind === "boolean" ? null : input,
    );
    if (hint && kind !== "string" && kind !== "number" && kind !== "integer") {
      wrap.append(h("small", { class: "muted" }, hint));
    }
    (isRequired ? container : optionalGrid).append(wrap);
    fields.push({ name, kind, input, isRequired });
  }
  if (fields.length === 0) container.append(h("p", { class: "muted small" }, "No parameters."));
  const optionalCount = optionalGrid.childElementCount;
  if (optionalCount > 0) {
    // Optional fields stay folded so the conversation keeps its room.
    const el = h(
      "details",
      { class: "optional-fields", dataset: { testid: "optional-fields" } },
      h("summary", {}, `Optional fields (${optionalCount})`),
      optionalGrid,
    );
    if (fields.every((f) => !f.isRequired)) el.open = true;
    container.append(el);
  }

  function read() {
    const payload = {};
    for (const { name, kind, input, isRequired } of fields) {
      if (kind === "boolean") {
        payload[name] = input.checked;
        continue;
      }
      const raw = input.value;
      if (raw === "" && !isRequired) continue;
      if (kind === "choice") payload[name] = raw === "" ? undefined : JSON.parse(raw);
      else if (kind === "number" || kind === "integer") {
        if (raw.trim() === "") throw new Error(`${name} is required`);
        payload[name] = Number(raw);
      } else if (kind === "string") payload[name] = raw;
      else {
        try {
          payload[name] = JSON.parse(raw);
        } catch (error) {
          throw new Error(`${name}: ${error.message}`, { cause: error });
        }
      }
    }
    return payload;
  }

  /** Fills the inputs from a payload (used when switching back from the JSON editor). */
  function write(payload) {
    for (const { name, kind, input } of fields) {
      if (!(name in payload)) continue;
      const value = payload[name];
      if (kind === "boolean") input.checked = Boolean(value);
      else if (kind === "choice") input.value = JSON.stringify(value);
      else if (kind === "json") input.value = pretty(value);
      else input.value = String(value);
    }
  }

  const first = () => fields[0]?.input;
  return { el: container, read, write, focus: () => first()?.focus(), fields };
}

/** Enter submits the form from a textarea; Shift+Enter keeps the newline. */
export function enterToSend(form) {
  form.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (!(event.target instanceof HTMLTextAreaElement)) return;
    event.preventDefault();
    form.requestSubmit();
  });
}
