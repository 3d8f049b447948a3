/** Facts about a parse tree that need a walk over all of it, done without recursion. */

/**
 * Deepest nesting of parse nodes (`{"A_Expr": {…}}`, `{"ColumnRef": …}`, …) in a libpg-query
 * parse tree, and whether one is a subquery; walked with a stack of its own, as the input may
 * be deep.
 */
export function measureTree(root: unknown): {
  depth: number;
  hasSubLink: boolean;
} {
  let depth = 0;
  let hasSubLink = false;
  const stack: [unknown, number][] = [[root, 0]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [value, level] = item;
    if (Array.isArray(value)) {
      for (const child of value) stack.push([child, level]);
      continue;
    }
    if (!value || typeof value !== "object") continue;
    const keys = Object.keys(value);
    const kind = keys.length === 1 ? (keys[0] ?? "") : "";
    const isNode = /^[A-Z]/.test(kind);
    if (kind === "SubLink") hasSubLink = true;
    const nodeLevel = isNode ? level + 1 : level;
    depth = Math.max(depth, nodeLevel);
    for (const child of Object.values(value)) stack.push([child, nodeLevel]);
  }
  return { depth, hasSubLink };
}
