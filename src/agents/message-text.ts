/**
 * The text of a message's content, whatever shape the model produced: a
 * string, or an array of parts where only the parts carrying text count
 * (providers name streamed text parts differently, "text" or "text_delta",
 * so a part counts by its `text` field rather than its type).
 */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return (content as unknown[]).map(partText).join("");
}

function partText(part: unknown): string {
  if (typeof part === "string") return part;
  return typeof part === "object" && part && "text" in part ? String(part.text) : "";
}
