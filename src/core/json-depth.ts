/**
 * True when `value` nests objects or arrays deeper than `maxDepth`. Iterative,
 * so a hostile payload cannot overflow the stack here; it is checked before
 * anything recursive (the validator, JSON.stringify on the way out) sees it.
 */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [node, depth] = item;
    if (typeof node !== "object" || node === null) continue;
    if (depth >= maxDepth) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
