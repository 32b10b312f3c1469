/** Settings the page keeps between visits (never the token). */
export const STORED = {
  session: "agent-gateway-console.session_id",
  transport: "agent-gateway-console.transport",
  graph: "agent-gateway-console.graph",
};

export function recall(key) {
  try {
    return localStorage.getItem(key) ?? "";
  } catch {
    return ""; // storage may be disabled
  }
}

export function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* storage may be disabled */
  }
}
