import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";

import type { Db, JsonValue, MutationCall } from "../src";
import {
  ClientIdOwnerError,
  MutationIdReusedError,
  MutationOrderError,
  pruneMutationLog,
  RecordedRejectionError,
  runLoggedMutation,
} from "../src";
import { test } from "./fixture";

let db: Db;
/** A client built without createDb: no direct path, the log insert goes through Prisma. */
let plainDb: Db;
let alice: string;
let bob: string;

test.beforeAll(async ({ db: fileDb, plainDb: filePlainDb }) => {
  db = fileDb;
  plainDb = filePlainDb;
  ({ id: alice } = await db.user.create({
    data: { name: "Alice", email: "alice@example.com" },
  }));
  ({ id: bob } = await db.user.create({
    data: { name: "Bob", email: "bob@example.com" },
  }));
});

class Refused extends Error {}

/** Names the mutation refuses: a policy a test may change between a call and its retry. */
const refusedNames = new Set(["refused"]);

/**
 * A mutation that creates a project named `name` (its arguments: `{ name }`) and returns it
 * (with a Date inside).
 */
function createProject(
  call: Omit<MutationCall, "args">,
  name: string,
  onRun: () => void = () => undefined,
  via: Db = db,
) {
  return runLoggedMutation(
    via,
    { ...call, args: { name } },
    async (tx) => {
      onRun();
      if (refusedNames.has(name)) throw new Refused("no");
      if (name === "flaky") throw new Error("transient");
      return tx.project.create({
        data: { name, ownerId: call.userId },
        select: { id: true, name: true, createdAt: true },
      });
    },
    {
      encode: (data) => ({ ...data, createdAt: data.createdAt.toISOString() }),
      decode: (json: JsonValue) => {
        const row = json as { id: string; name: string; createdAt: string };
        return { ...row, createdAt: new Date(row.createdAt) };
      },
      classifyRejection: (error) =>
        error instanceof Refused
          ? { outcome: "FORBIDDEN", message: "refused", reason: "policy" }
          : null,
    },
  );
}

const call = (
  clientId: string,
  mutationId: number,
  userId = alice,
): Omit<MutationCall, "args"> => ({
  clientId,
  mutationId,
  userId,
  name: "projects.create",
});

const projectsNamed = (name: string) => db.project.count({ where: { name } });

describe("runLoggedMutation", () => {
  it("logs the call with the txid of the transaction that wrote its rows", async () => {
    const clientId = randomUUID();
    const result = await createProject(call(clientId, 1), "first");

    expect(result.replayed).toBe(false);
    const [log] = await db.$queryRaw<{ txid: string; outcome: string }[]>`
      SELECT txid::text AS txid, outcome FROM mutation_log
       WHERE client_id = ${clientId}::uuid AND mutation_id = 1`;
    const [row] = await db.$queryRaw<{ xmin: string }[]>`
      SELECT xmin::text AS xmin FROM projects WHERE id = ${result.data.id}::uuid`;
    expect(log).toEqual({ txid: String(result.txid), outcome: "ok" });
    expect(Number(row?.xmin)).toBe(result.txid);
  });

  it("answers a retry from the log: same data and txid, nothing written", async () => {
    const clientId = randomUUID();
    const first = await createProject(call(clientId, 1), "retried");
    const again = await createProject(call(clientId, 1), "retried");

    expect(again).toEqual({ ...first, replayed: true });
    expect(again.data.createdAt).toBeInstanceOf(Date);
    expect(await projectsNamed("retried")).toBe(1);
  });

  it("applies concurrent duplicates once (the others wait, then answer from the log)", async () => {
    const clientId = randomUUID();
    const results = await Promise.all(
      [1, 2, 3].map(() => createProject(call(clientId, 7), "concurrent")),
    );
    expect(new Set(results.map((r) => r.txid)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await projectsNamed("concurrent")).toBe(1);
  });

  it("refuses an id below the client's latest, writing nothing", async () => {
    const clientId = randomUUID();
    await createProject(call(clientId, 5), "five");
    const failure = await createProject(call(clientId, 3), "three").catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(MutationOrderError);
    expect((failure as MutationOrderError).latestMutationId).toBe(5);
    expect(await projectsNamed("three")).toBe(0);
    // Gaps are fine: ids only have to increase.
    await expect(
      createProject(call(clientId, 9), "nine"),
    ).resolves.toMatchObject({
      replayed: false,
    });
  });

  it("works the same without the direct path (a client not made by createDb)", async () => {
    const clientId = randomUUID();
    const viaPlain = (mutationId: number, name: string) =>
      createProject(call(clientId, mutationId), name, undefined, plainDb);
    const first = await viaPlain(1, "plain");
    const concurrent = await Promise.all(
      [1, 2].map(() => viaPlain(2, "plain")),
    );
    expect(await viaPlain(1, "plain")).toEqual({ ...first, replayed: true });
    expect(concurrent.filter((r) => !r.replayed)).toHaveLength(1);
    await expect(viaPlain(1, "other")).rejects.toBeInstanceOf(
      MutationIdReusedError,
    );
    const lower = await createProject(
      call(clientId, 0),
      "plain",
      undefined,
      plainDb,
    ).catch((error: unknown) => error);
    expect(lower).toBeInstanceOf(MutationOrderError);
    expect(await projectsNamed("plain")).toBe(2);
    expect(await projectsNamed("other")).toBe(0);
  });

  it("refuses another user's client id, and does not show them its results", async () => {
    const clientId = randomUUID();
    await createProject(call(clientId, 1), "alice's");
    await expect(
      createProject(call(clientId, 1, bob), "alice's"),
    ).rejects.toBeInstanceOf(ClientIdOwnerError);
    await expect(
      createProject(call(clientId, 2, bob), "bob's"),
    ).rejects.toBeInstanceOf(ClientIdOwnerError);
    expect(await projectsNamed("bob's")).toBe(0);
  });

  it("refuses a mutation id reused for another mutation", async () => {
    const clientId = randomUUID();
    await createProject(call(clientId, 1), "named");
    await expect(
      createProject({ ...call(clientId, 1), name: "projects.update" }, "named"),
    ).rejects.toBeInstanceOf(MutationIdReusedError);
  });

  it("refuses a mutation id reused with other arguments, answered or refused, writing nothing", async () => {
    const clientId = randomUUID();
    await createProject(call(clientId, 1), "original");
    const reused = await createProject(call(clientId, 1), "changed").catch(
      (error: unknown) => error,
    );
    expect(reused).toBeInstanceOf(MutationIdReusedError);
    expect((reused as Error).message).toContain("other arguments");
    await expect(
      createProject(call(clientId, 2), "refused"),
    ).rejects.toBeInstanceOf(Refused);
    await expect(
      createProject(call(clientId, 2), "changed"),
    ).rejects.toBeInstanceOf(MutationIdReusedError);
    expect(await projectsNamed("changed")).toBe(0);
  });

  it("takes arguments that differ only in key order or undefined keys for the same call", async () => {
    const clientId = randomUUID();
    const logged = (args: Record<string, unknown>) =>
      runLoggedMutation(
        db,
        { ...call(clientId, 1), args },
        async () => "done",
        {
          encode: (data) => data,
          decode: (json) => json as string,
          classifyRejection: () => null,
        },
      );
    const at = new Date("2026-01-01T00:00:00.000Z");
    await logged({ a: 1, at, nested: { x: [1, 2], y: null } });
    await expect(
      logged({
        nested: { y: null, x: [1, 2] },
        at: new Date(at),
        a: 1,
        b: undefined,
      }),
    ).resolves.toMatchObject({ replayed: true });
    await expect(
      logged({
        a: 1,
        at: new Date(at.getTime() + 1),
        nested: { x: [1, 2], y: null },
      }),
    ).rejects.toBeInstanceOf(MutationIdReusedError);
  });

  it("records a definitive rejection, and answers its retry with it", async () => {
    const clientId = randomUUID();
    refusedNames.add("refused until changed");
    await expect(
      createProject(call(clientId, 1), "refused until changed"),
    ).rejects.toBeInstanceOf(Refused);
    // The retry would pass now (the policy changed): the recorded answer wins.
    refusedNames.delete("refused until changed");
    const retry = await createProject(
      call(clientId, 1),
      "refused until changed",
    ).catch((error: unknown) => error);
    expect(await projectsNamed("refused until changed")).toBe(0);
    expect(retry).toBeInstanceOf(RecordedRejectionError);
    expect(retry).toMatchObject({
      outcome: "FORBIDDEN",
      message: "refused",
      reason: "policy",
    });
    const [log] = await db.$queryRaw<{ txid: string | null }[]>`
      SELECT txid::text AS txid FROM mutation_log WHERE client_id = ${clientId}::uuid`;
    expect(log).toEqual({ txid: null });
  });

  it("does not record transient failures: a retry runs again", async () => {
    const clientId = randomUUID();
    let runs = 0;
    await expect(
      createProject(call(clientId, 1), "flaky", () => runs++),
    ).rejects.toThrow("transient");
    await expect(
      createProject(call(clientId, 1), "flaky", () => runs++),
    ).rejects.toThrow("transient");
    expect(runs).toBe(2);
    expect(
      await db.$queryRaw`SELECT 1 FROM mutation_log WHERE client_id = ${clientId}::uuid`,
    ).toEqual([]);
  });

  it("prunes old rows but keeps each client's latest, so ordering still holds", async () => {
    const clientId = randomUUID();
    for (const id of [1, 2, 3])
      await createProject(call(clientId, id), `p${id}`);
    await db.$executeRaw`UPDATE mutation_log SET created_at = now() - interval '30 days'
                          WHERE client_id = ${clientId}::uuid`;
    const deleted = await pruneMutationLog(db, {
      olderThan: new Date(Date.now() - 7 * 86_400_000),
    });

    expect(deleted).toBe(2);
    const left = await db.$queryRaw<{ mutation_id: number }[]>`
      SELECT mutation_id FROM mutation_log WHERE client_id = ${clientId}::uuid`;
    expect(left).toEqual([{ mutation_id: 3 }]);
    await expect(createProject(call(clientId, 2), "p2")).rejects.toBeInstanceOf(
      MutationOrderError,
    );
  });
});
