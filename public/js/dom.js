/** Small DOM helpers shared by the console's modules. */

/**
 * Creates an element: h("div", {class: "x", dataset: {testid: "y"}}, "text", child).
 * Attributes named on* are refused: the page's CSP forbids inline handlers anyway.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "class") el.className = value;
    else if (key.startsWith("on")) throw new Error(`h(): use addEventListener, not ${key}`);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}

/** Local clock time with milliseconds, for the log. */
export function clock(date = new Date()) {
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function pretty(value) {
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

/** True when the element is scrolled (nearly) to its bottom. */
export function atBottom(el) {
  return el.scrollHeight - el.scrollTop - el.clientHeight < 40;
}

/** An event's own fields, without the `type` and `timestamp` every server event carries. */
export function ownFields(event) {
  const fields = { ...event };
  delete fields.type;
  delete fields.timestamp;
  return fields;
}
