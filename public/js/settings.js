/** Settings the page keeps between visits (never the token). */
export const STORED = {
  session: "agent-gateway-console.session_id",
  transport: "agent-gateway-console.transport",
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
