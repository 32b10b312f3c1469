/**
 * Shows a connection state (connecting, connected, reconnecting, refused,
 * disconnected) in the connection bar, the statistics and the controls.
 */
export function showConnectionState(ui, state, text, detail = {}) {
  ui.state.dataset.state = state;
  if (detail.attempt) ui.state.dataset.attempt = String(detail.attempt);
  else delete ui.state.dataset.attempt;
  ui.state.querySelector(".conn-state-text").textContent = text;
  ui.stat.state.textContent = text;
  const live = state === "connected" || state === "connecting" || state === "reconnecting";
  ui.connect.disabled = state === "connected" || state === "connecting";
  ui.disconnect.disabled = !live;
  // The transport is the connection's: it changes only between connections.
  ui.transport.disabled = live;
  document.body.dataset.connection = state;
  if (!live || state === "reconnecting") ui.connectionDisplay.textContent = "—";
  // Nothing may look sent that cannot be: sending waits for the connection.
  const ready = state === "connected";
  const reason = state === "reconnecting" ? "Reconnecting: wait to send" : "Connect to send";
  ui.send.disabled = !ready;
  ui.send.title = ready ? "" : reason;
  ui.composerHint.textContent = ready ? "Enter sends · Shift+Enter adds a line" : reason;
  for (const button of document.querySelectorAll("[data-action]")) {
    button.disabled = !ready;
    button.title = ready ? "" : reason;
  }
}
