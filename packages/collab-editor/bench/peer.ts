import type * as Y from "yjs";

/** One client of the system under test, its document connected and loaded. */
export interface Peer {
  doc: Y.Doc;
  /** The document's text the writer types into. */
  text: Y.Text;
  /** Ours: when each of this writer's keystrokes (by clock) went out, and was answered. */
  sends?: SendLog;
  /** Ours with the relay: per writer, by clock, when `/docs/follow` brought it (`now()`). */
  relayed?: Map<number, number[]>;
  close(): Promise<void>;
}

export interface SendLog {
  /** By clock, `now()`: the first `docs.update` call that carried it started. */
  sentAt: number[];
  /** By clock, `now()`: a call that carried it was answered (committed). */
  ackedAt: number[];
  /** ms of each answered call (attempts that failed are not counted). */
  calls: number[];
}

/** `count` clients connected one after another (each loaded before the next connects). */
export async function connectInTurn(
  count: number,
  connect: () => Promise<Peer>,
): Promise<Peer[]> {
  const peers: Peer[] = [];
  for (let i = 0; i < count; i++) peers.push(await connect());
  return peers;
}
