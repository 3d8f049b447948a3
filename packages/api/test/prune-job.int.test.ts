/**
 * The mutation log pruning job (the standalone server runs it too: apps/api-server's tests).
 */
import { describe, expect, it } from "vitest";

import type { Db } from "@repo/db";
import { waitFor } from "@repo/test-support";

import type { TestUser } from "./support";
import { startMutationLogPruning } from "../src/jobs/prune-mutation-log";
import {
  apiTest,
  createUser,
  insertLogRows,
  loggedMutationIds,
} from "./support";

let db: Db;
let alice: TestUser;

apiTest.beforeAll(async ({ db: fileDb }) => {
  db = fileDb;
  alice = await createUser(db, "Alice");
});

const logRows = (count: number, old: number) =>
  insertLogRows(db, alice.id, count, old);
const mutationIds = (clientId: string) => loggedMutationIds(db, clientId);

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
      await waitFor(() => runs.length >= 2);
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
});
