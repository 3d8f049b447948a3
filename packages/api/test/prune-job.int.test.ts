/**
 * The mutation log pruning job: on its own, and run by the standalone server (here with two
 * cluster workers, which also serve mutations).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Db } from "@repo/db";
import type { TestDatabase } from "@repo/test-support";
import { createDb } from "@repo/db";
import { createTestDatabase } from "@repo/test-support";

import type { TestUser } from "./support";
import { startServerProcess } from "../scripts/serve-process";
import { startMutationLogPruning } from "../src/jobs/prune-mutation-log";
import { createUser } from "./support";

let database: TestDatabase;
let db: Db;
let alice: TestUser;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  alice = await createUser(db, "Alice");
});
afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

/** Log rows 1..count of a new client, the first `old` of them 40 days old. */
async function logRows(count: number, old: number): Promise<string> {
  const clientId = randomUUID();
  for (let id = 1; id <= count; id++)
    await db.$executeRaw`
      INSERT INTO mutation_log (client_id, mutation_id, user_id, name, txid, outcome, result, created_at)
      VALUES (${clientId}::uuid, ${id}, ${alice.id}::uuid, 'issues.create', 1, 'ok', '{}'::jsonb,
              now() - ${id <= old ? "40 days" : "0 days"}::interval)`;
  return clientId;
}

async function mutationIds(clientId: string): Promise<number[]> {
  const rows = await db.$queryRaw<{ mutation_id: number }[]>`
    SELECT mutation_id FROM mutation_log WHERE client_id = ${clientId}::uuid
     ORDER BY mutation_id`;
  return rows.map((row) => row.mutation_id);
}

async function waitFor(check: () => Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("mutation log pruning", () => {
  it("deletes rows past the retention on every interval, keeping each client's latest", async () => {
    const recent = await logRows(3, 1);
    const allOld = await logRows(3, 3);
    const runs: number[] = [];
    const pruning = startMutationLogPruning(db, {
      retentionMs: 30 * 86_400_000,
      intervalMs: 20,
      onPruned: (deleted) => runs.push(deleted),
    });
    try {
      await waitFor(async () => runs.length >= 2);
    } finally {
      await pruning.stop();
    }
    expect(runs[0]).toBeGreaterThanOrEqual(3);
    expect(await mutationIds(recent)).toEqual([2, 3]);
    expect(await mutationIds(allOld)).toEqual([3]);
    // Stopped: rows that become prunable now stay.
    const later = await logRows(2, 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await mutationIds(later)).toEqual([1, 2]);
  });

  it("refuses a negative retention or a zero interval", () => {
    expect(() => startMutationLogPruning(db, { retentionMs: -1 })).toThrow(
      RangeError,
    );
    expect(() => startMutationLogPruning(db, { intervalMs: 0 })).toThrow(
      RangeError,
    );
  });

  it("runs in the standalone server (two cluster workers), which keeps serving mutations", async () => {
    const clientId = await logRows(4, 4);
    const server = await startServerProcess(database.url, [
      "--workers",
      "2",
      "--log-retention-days",
      "30",
      "--prune-every-minutes",
      "0.002",
    ]);
    try {
      await waitFor(async () => (await mutationIds(clientId)).length === 1);
      expect(await mutationIds(clientId)).toEqual([4]);
      const id = randomUUID();
      const response = await fetch(`${server.url}/projects.create?batch=1`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${alice.token}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({
          0: {
            json: {
              clientId: randomUUID(),
              mutationId: 1,
              args: {
                id,
                ownerMemberId: randomUUID(),
                name: "Served by a worker",
                at: new Date().toISOString(),
              },
            },
            meta: { values: { "args.at": ["Date"] } },
          },
        }),
      });
      expect(response.status).toBe(200);
      expect(await db.project.findUnique({ where: { id } })).toMatchObject({
        name: "Served by a worker",
      });
    } finally {
      await server.stop();
    }
  });
});
