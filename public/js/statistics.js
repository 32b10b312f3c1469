import { h } from "./dom.js";

/** The page's own counts of events sent and received. */
export function renderCounters(stat, counters) {
  stat.sent.textContent = String(counters.sent);
  stat.received.textContent = String(counters.received);
}

/** Fetches GET /ws/statistics and shows it; `mine` is this page's connection id, highlighted. */
export async function refreshStatistics(stat, baseUrl, mine) {
  if (document.hidden) return;
  try {
    const apiKey = stat.apiKey.value.trim();
    const response = await fetch(`${baseUrl}/ws/statistics`, {
      headers: {
        accept: "application/json",
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const stats = await response.json();
    stat.active.textContent = String(stats.active_connections);
    stat.total.textContent = String(stats.total_connections);
    stat.messages.textContent = String(stats.total_messages);
    // Per-connection rows hold session ids, which only the operator may see (docs/security.md).
    stat.connections.replaceChildren(
      ...(stats.connections_visible
        ? stats.connections.map((c) => connectionRow(c, mine))
        : [
            h(
              "tr",
              {},
              h(
                "td",
                { colspan: "4", dataset: { testid: "stats-key-note" } },
                apiKey
                  ? "The server did not accept this API key"
                  : "Per-connection detail needs the API key: enter it above (docs/security.md)",
              ),
            ),
          ]),
    );
    stat.updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
    stat.updated.dataset.ok = "true";
  } catch (error) {
    stat.updated.textContent = `statistics unavailable (${error.message})`;
    stat.updated.dataset.ok = "false";
  }
}

function connectionRow(c, mine) {
  return h(
    "tr",
    { class: c.id === mine ? "mine" : undefined },
    h("td", { title: c.id }, shortId(c.id)),
    h("td", { title: c.session_id }, shortId(c.session_id)),
    h("td", {}, String(c.message_count)),
    h("td", {}, `${Math.round(c.uptime)} s`),
  );
}

const shortId = (id) => (String(id).length > 12 ? `${String(id).slice(0, 10)}…` : String(id));
