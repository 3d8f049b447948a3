/** State vectors and delete sets, compared: what the server lacks of a document. */
import * as Y from "yjs";

/** Raises each client's clock in `into` to at least `from`'s. */
export function mergeClocks(
  into: Map<number, number>,
  from: Map<number, number>,
): void {
  for (const [client, clock] of from)
    if (clock > (into.get(client) ?? 0)) into.set(client, clock);
}

/**
 * Whether `doc` has structs beyond `clocks` (what the server has). Read from the struct store,
 * not an encoded state vector: it runs on every status update, a few per keystroke.
 */
export function isAhead(doc: Y.Doc, clocks: Map<number, number>): boolean {
  for (const client of doc.store.clients.keys())
    if (Y.getState(doc.store, client) > (clocks.get(client) ?? 0)) return true;
  return false;
}

/**
 * Whether `doc` deleted more than the server's document, whose complete delete set travels in
 * `serverUpdate` (every `encodeStateAsUpdate` carries the whole delete set).
 */
export function hasUnsentDeletions(
  doc: Y.Doc,
  serverUpdate: Uint8Array,
): boolean {
  const server = deletedLengths(Y.decodeUpdate(serverUpdate).ds);
  const local = deletedLengths(Y.createDeleteSetFromStructStore(doc.store));
  for (const [client, length] of local)
    if (length > (server.get(client) ?? 0)) return true;
  return false;
}

/** Deleted length per client, overlapping ranges counted once. */
function deletedLengths(
  ds: ReturnType<typeof Y.createDeleteSetFromStructStore>,
): Map<number, number> {
  const lengths = new Map<number, number>();
  for (const [client, items] of ds.clients) {
    const sorted = [...items].sort((a, b) => a.clock - b.clock);
    let total = 0;
    let end = 0;
    for (const { clock, len } of sorted) {
      const start = Math.max(clock, end);
      if (clock + len > start) total += clock + len - start;
      end = Math.max(end, clock + len);
    }
    lengths.set(client, total);
  }
  return lengths;
}
