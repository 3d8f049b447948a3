/**
 * The keystroke bench (bench/) measures what it claims: with its clients in forked processes,
 * every keystroke is counted once for every other client, on one clock, and every process it
 * started is gone after; a row that misses a delivery or ends with different texts says so.
 * Hocuspocus is the system here (quicker to start than ours); the floor also stores every keystroke.
 */
import { afterAll, expect, test } from "vitest";

import { withClient } from "@repo/dev-postgres";
import { dbTest } from "@repo/test-support";

import type { ProcessReport, TypingPlan } from "../bench/protocol";
import type { BenchSystem } from "../bench/system";
import { startFleet } from "../bench/fleet";
import { rowFigures } from "../bench/latency";
import { now } from "../bench/protocol";
import { startFloor, startHocuspocus } from "../bench/websocket-systems";

let system: BenchSystem | undefined;
let floor: BenchSystem | undefined;
afterAll(async () => {
  await system?.stop();
  await floor?.stop();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Three writers in two client processes type 30 keystrokes each, 5 ms apart, on a new document
 * of `system`; the row's figures, the document, and the fleet's processes.
 */
async function typeThreeWriters(system: BenchSystem) {
  const fleet = startFleet(2);
  try {
    const document = await system.newDocument();
    const writerIds = await fleet.connect(
      system.clientConfig({ channel: "shape" }),
      document,
      3,
    );
    expect(new Set(writerIds).size).toBe(3);
    const clock = await fleet.checkClock();
    expect(clock.maxOffsetMs).toBeLessThan(1);
    const plan: TypingPlan = {
      startAt: now() + 100,
      paceMs: 5,
      keys: 30,
      writerIds,
      drainMs: 10_000,
    };
    const figures = rowFigures(plan, await fleet.type(plan));
    expect(figures).toMatchObject({
      keystrokes: 90,
      missing: 0,
      converged: true,
      textLength: 90,
    });
    return { figures, document, pids: fleet.pids };
  } finally {
    await fleet.stop();
  }
}

dbTest(
  "every keystroke is counted once per other client across client processes, and the processes end",
  async ({ database }) => {
    system = await startHocuspocus(database.url);
    const { figures, pids } = await typeThreeWriters(system);
    // 90 keystrokes, each applied by the 2 other clients.
    expect(figures.latency.count).toBe(180);
    // One clock: nothing arrives before it was typed.
    expect(figures.latency.p50).toBeGreaterThan(0);
    expect(pids.filter(alive)).toEqual([]);
  },
  60_000,
);

dbTest(
  "the commit-first floor stores every keystroke's update, and its clients converge",
  async ({ database }) => {
    floor = await startFloor(database.url);
    const { document } = await typeThreeWriters(floor);
    // Every update the peers got is stored (the server sends one only once it committed).
    const stored = await withClient(database.url, (client) =>
      client.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM bench_floor_updates WHERE doc = $1",
        [document],
      ),
    );
    expect(stored.rows[0]?.n).toBe(90);
  },
  60_000,
);

/** Writers 1 and 2, each also the other's peer, in a process each. */
function reports(
  arrivalsOfA: (number | null)[],
  arrivalsOfB: (number | null)[],
  digests: [string, string],
): ProcessReport[] {
  const sides = [
    { clientId: 1, other: 2, arrivals: arrivalsOfA, digest: digests[0] },
    { clientId: 2, other: 1, arrivals: arrivalsOfB, digest: digests[1] },
  ];
  return sides.map(({ clientId, other, arrivals, digest }) => ({
    writers: [{ clientId, typedAt: [0, 10], dueAt: [0, 10] }],
    peers: [
      {
        clientId,
        arrivals: { [other]: arrivals },
        textLength: 4,
        textDigest: digest,
      },
    ],
    calls: [],
    cpuMs: 0,
  }));
}

const plan: TypingPlan = {
  startAt: 0,
  paceMs: 10,
  keys: 2,
  writerIds: [1, 2],
  drainMs: 0,
};

test("a delivery not seen is missing, and different texts are not converged", () => {
  const complete = rowFigures(plan, reports([3, 14], [5, 12], ["x", "x"]));
  expect(complete).toMatchObject({ missing: 0, converged: true });
  expect(complete.latency).toMatchObject({ count: 4, p50: 4, max: 5 });

  const short = rowFigures(plan, reports([3, null], [5, 12], ["x", "y"]));
  expect(short).toMatchObject({ missing: 1, converged: false });
  expect(short.latency.count).toBe(3);
});
