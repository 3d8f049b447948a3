/**
 * The keystroke benchmark's driver, the same for every system: N peers on one document, each
 * typing single characters at a fixed pace (writer i offset by i/N of the interval, so
 * keystrokes spread evenly) at its own cursor, as people type: the cursor follows its text
 * while others insert elsewhere, and moves to a random place every `KEYSTROKES_PER_MOVE` keystrokes. For
 * every keystroke, the time until each other peer's `Y.Doc` has applied it. Peers share this
 * process, so one clock times both ends.
 */
import * as Y from "yjs";

/** One client of the system under test, its document connected and loaded. */
export interface Peer {
  doc: Y.Doc;
  /** The document's text the writer types into. */
  text: Y.Text;
  close(): Promise<void>;
}

export interface TypingOptions {
  peers: readonly Peer[];
  /** Keystrokes per writer. */
  inserts: number;
  intervalMs: number;
  /** How long to wait, after the last keystroke, for every peer to hold every keystroke. */
  drainMs: number;
}

export interface TypingResult {
  /** ms from a keystroke to its arrival in each other peer's document. */
  latencies: number[];
  /** Arrivals expected but not seen by the end of the drain. */
  missing: number;
  /** ms from the first keystroke to the last arrival. */
  elapsedMs: number;
  /** ms from the first keystroke to the last: `inserts × intervalMs` if the pace held. */
  typingMs: number;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz ";
/** Keystrokes typed at one place before the cursor moves to a random one. */
const KEYSTROKES_PER_MOVE = 50;

export async function typeTogether(
  options: TypingOptions,
): Promise<TypingResult> {
  const { peers, inserts, intervalMs } = options;
  // Per writer (Yjs client id): the time each of its clocks was typed.
  const typedAt = new Map<number, number[]>();
  const latencies: number[] = [];
  let lastArrival = 0;
  const unsubscribes = peers.map(({ doc }) => {
    typedAt.set(doc.clientID, []);
    const onTransaction = (transaction: Y.Transaction) => {
      if (transaction.local) return;
      const now = performance.now();
      for (const [client, after] of transaction.afterState) {
        const times = typedAt.get(client);
        if (!times) continue;
        for (
          let clock = transaction.beforeState.get(client) ?? 0;
          clock < after;
          clock++
        ) {
          const at = times[clock];
          if (at !== undefined) {
            latencies.push(now - at);
            lastArrival = now;
          }
        }
      }
    };
    doc.on("afterTransaction", onTransaction);
    return () => doc.off("afterTransaction", onTransaction);
  });

  const start = performance.now() + 50;
  const writers = peers.map(
    ({ doc, text }, i) =>
      new Promise<void>((resolve) => {
        const times = typedAt.get(doc.clientID) ?? [];
        let k = 0;
        let cursor = Y.createRelativePositionFromTypeIndex(text, 0);
        const offset = (i * intervalMs) / peers.length;
        const next = () => {
          if (k === inserts) {
            resolve();
            return;
          }
          const clock = Y.getState(doc.store, doc.clientID);
          times[clock] = performance.now();
          if (k % KEYSTROKES_PER_MOVE === 0)
            cursor = Y.createRelativePositionFromTypeIndex(
              text,
              Math.floor(Math.random() * (text.length + 1)),
            );
          const index =
            Y.createAbsolutePositionFromRelativePosition(cursor, doc)?.index ??
            text.length;
          text.insert(index, ALPHABET[k % ALPHABET.length] ?? "x");
          // After the character just typed, wherever others' edits move it.
          cursor = Y.createRelativePositionFromTypeIndex(text, index + 1);
          k++;
          const due = start + offset + k * intervalMs;
          setTimeout(next, Math.max(0, due - performance.now()));
        };
        setTimeout(next, Math.max(0, start + offset - performance.now()));
      }),
  );
  await Promise.all(writers);
  const typingMs = performance.now() - start;

  const expected = inserts * peers.length * (peers.length - 1);
  const deadline = performance.now() + options.drainMs;
  while (latencies.length < expected && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  for (const unsubscribe of unsubscribes) unsubscribe();
  return {
    latencies,
    missing: expected - latencies.length,
    elapsedMs: lastArrival - start,
    typingMs,
  };
}
