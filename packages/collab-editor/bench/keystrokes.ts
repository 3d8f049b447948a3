/**
 * The keystroke benchmark's driver in one client process, the same for every system: this
 * process's peers each type single characters at the plan's pace (writer i of N offset by i/N
 * of the pace, so keystrokes spread evenly over all processes) at their own cursor, as people
 * type: the cursor follows its text while others insert elsewhere, and moves to a random place
 * every `KEYSTROKES_PER_MOVE` keystrokes. Records when each keystroke was typed and when each
 * peer's `Y.Doc` applied each other writer's keystroke (once per peer and keystroke: Yjs
 * applies a clock once); the parent joins the records of all processes (latency.ts).
 */
import { createHash } from "node:crypto";
import * as Y from "yjs";

import type { Peer } from "./peer";
import type { ProcessReport, TypingPlan } from "./protocol";
import { now } from "./protocol";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz ";
/** Keystrokes typed at one place before the cursor moves to a random one. */
const KEYSTROKES_PER_MOVE = 50;

type Recorded = Omit<ProcessReport, "cpuMs">;

export async function typeAndRecord(
  peers: readonly Peer[],
  plan: TypingPlan,
): Promise<Recorded> {
  const { startAt, keys, writerIds } = plan;
  const since = () => now() - startAt;
  const expected = keys * (writerIds.length - 1);
  let incomplete = peers.length;
  let allArrived: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (allArrived = resolve));
  if (expected === 0) allArrived();

  const peerRecords = peers.map((peer) => {
    const arrivals = new Map<number, (number | null)[]>();
    for (const id of writerIds)
      if (id !== peer.doc.clientID) arrivals.set(id, []);
    let count = 0;
    let complete = false;
    const onTransaction = (transaction: Y.Transaction) => {
      if (transaction.local) return;
      const at = since();
      for (const [client, after] of transaction.afterState) {
        const times = arrivals.get(client);
        if (!times) continue;
        for (
          let clock = transaction.beforeState.get(client) ?? 0;
          clock < after;
          clock++
        ) {
          times[clock] = at;
          count++;
        }
      }
      if (!complete && count >= expected) {
        complete = true;
        if (--incomplete === 0) allArrived();
      }
    };
    peer.doc.on("afterTransaction", onTransaction);
    return {
      peer,
      arrivals,
      stop: () => peer.doc.off("afterTransaction", onTransaction),
    };
  });

  const writerRecords = await Promise.all(
    peers.map((peer) =>
      typeAtPace(peer, writerIds.indexOf(peer.doc.clientID), plan),
    ),
  );

  let drainTimer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    arrived,
    new Promise((resolve) => (drainTimer = setTimeout(resolve, plan.drainMs))),
  ]);
  clearTimeout(drainTimer);
  for (const record of peerRecords) record.stop();

  return {
    writers: writerRecords.map((record, i) => {
      const sends = peers[i]?.sends;
      return {
        ...record,
        ...(sends && {
          sentAt: record.typedAt.map((_, clock) =>
            relative(sends.sentAt[clock], startAt),
          ),
          ackedAt: record.typedAt.map((_, clock) =>
            relative(sends.ackedAt[clock], startAt),
          ),
        }),
      };
    }),
    peers: peerRecords.map(({ peer, arrivals }) => {
      const text = peer.text.toJSON();
      return {
        clientId: peer.doc.clientID,
        arrivals: Object.fromEntries(arrivals),
        ...(peer.relayed && {
          relayed: Object.fromEntries(
            [...peer.relayed].map(([writer, times]) => [
              writer,
              times.map((at) => at - startAt),
            ]),
          ),
        }),
        textLength: text.length,
        textDigest: createHash("sha256").update(text).digest("hex"),
      };
    }),
    calls: peers.flatMap((peer) => peer.sends?.calls ?? []),
  };
}

const relative = (at: number | undefined, startAt: number) =>
  at === undefined ? null : at - startAt;

/** Writer `index` of the plan types its `keys` keystrokes, each when due or as soon after. */
function typeAtPace(
  { doc, text }: Peer,
  index: number,
  plan: TypingPlan,
): Promise<{ clientId: number; typedAt: number[]; dueAt: number[] }> {
  const { startAt, paceMs, keys } = plan;
  const offset = (index * paceMs) / plan.writerIds.length;
  const typedAt: number[] = [];
  const dueAt: number[] = [];
  return new Promise((resolve) => {
    let k = 0;
    let cursor = Y.createRelativePositionFromTypeIndex(text, 0);
    const next = () => {
      const clock = Y.getState(doc.store, doc.clientID);
      dueAt[clock] = offset + k * paceMs;
      typedAt[clock] = now() - startAt;
      if (k % KEYSTROKES_PER_MOVE === 0)
        cursor = Y.createRelativePositionFromTypeIndex(
          text,
          Math.floor(Math.random() * (text.length + 1)),
        );
      const position =
        Y.createAbsolutePositionFromRelativePosition(cursor, doc)?.index ??
        text.length;
      text.insert(position, ALPHABET[k % ALPHABET.length] ?? "x");
      // After the character just typed, wherever others' edits move it.
      cursor = Y.createRelativePositionFromTypeIndex(text, position + 1);
      k++;
      if (k === keys) {
        resolve({ clientId: doc.clientID, typedAt, dueAt });
        return;
      }
      setTimeout(next, Math.max(0, startAt + offset + k * paceMs - now()));
    };
    setTimeout(next, Math.max(0, startAt + offset - now()));
  });
}
