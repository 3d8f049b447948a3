/**
 * Model test of the runtime: random interleavings of local writes, api answers (accepted,
 * refused, network failures), writes of other clients arriving through the shapes, 409
 * refetches, reloads and offline periods. After every step the view equals "synced rows + the
 * pending reducers in order"; once everything is answered and delivered the view equals the
 * server's rows, every write was decided exactly once, under one mutation id.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import type { RowChange, RowTables } from "@repo/mutations";
import type { TableName } from "@repo/schema";
import {
  emptyRowTables,
  mutations,
  mutationsByName,
  viewOf,
} from "@repo/mutations";

import type { SyncClient } from "./client";
import type { OutboxStorage } from "./outbox/storage";
import type { ShapeSubscription } from "./shape-registry";
import type { MutationRequest } from "./transport";
import type { AnyRow, MutationResult } from "./types";
import { createSyncClient } from "./client";
import { memoryOutbox } from "./outbox/storage";
import { apiError, FakeBackend, USER_ID } from "./testing/fake-backend";

const PROJECT = "00000000-0000-4000-8000-0000000000aa";
const TABLES = ["issues", "comments"] as const;

type Action =
  | { kind: "create"; refused: boolean }
  | { kind: "update"; pick: number }
  | { kind: "delete"; pick: number }
  | { kind: "comment"; pick: number }
  | { kind: "foreign"; pick: number; op: "create" | "update" | "delete" }
  | { kind: "respond" }
  | { kind: "deliver"; table: (typeof TABLES)[number] }
  | { kind: "refetch"; table: (typeof TABLES)[number] }
  | { kind: "reload" }
  | { kind: "network"; online: boolean };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    kind: fc.constant("create" as const),
    refused: fc.constantFrom(false, false, false, false, false, true),
  }),
  fc.record({ kind: fc.constant("update" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("comment" as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant("foreign" as const),
    pick: fc.nat(),
    op: fc.constantFrom(
      "create" as const,
      "update" as const,
      "delete" as const,
    ),
  }),
  {
    arbitrary: fc.record({ kind: fc.constant("respond" as const) }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("deliver" as const),
      table: fc.constantFrom(...TABLES),
    }),
    weight: 4,
  },
  fc.record({
    kind: fc.constant("refetch" as const),
    table: fc.constantFrom(...TABLES),
  }),
  fc.record({ kind: fc.constant("reload" as const) }),
  fc.record({ kind: fc.constant("network" as const), online: fc.boolean() }),
);

interface InFlight {
  request: MutationRequest;
  resolve: (result: MutationResult) => void;
  reject: (error: unknown) => void;
}

class Harness {
  readonly backend = new FakeBackend(mutationsByName, (request) =>
    (request.args as { title?: string }).title?.startsWith("refused")
      ? apiError("FORBIDDEN", "forbidden", 403)
      : undefined,
  );
  readonly storage: OutboxStorage = memoryOutbox();
  readonly inFlight: InFlight[] = [];
  /** Every accepted `mutate` call: its input (JSON) and how its promise ended. */
  readonly calls: {
    input: string;
    outcome?: string;
    txid?: number;
    /** Whether its resolution was checked (right after the step it happened in). */
    checked?: boolean;
  }[] = [];
  online = true;
  client: SyncClient;
  private subscriptions = new Map<TableName, ShapeSubscription<TableName>>();
  private counter = 0;
  private clock = Date.UTC(2026, 0, 1);

  constructor() {
    this.client = this.open();
  }

  private open(): SyncClient {
    const client = createSyncClient({
      mutations: mutationsByName,
      actor: { userId: USER_ID },
      shapeUrl: "http://sync.test/v1/shape",
      storage: this.storage,
      createStream: this.backend.createStream,
      transport: (request) =>
        new Promise((resolve, reject) =>
          this.inFlight.push({ request, resolve, reject }),
        ),
      retry: { initialMs: 1e9 },
      txidTimeoutMs: 1e9,
    });
    this.subscriptions = new Map(
      TABLES.map((table) => [table, client.shape({ table })]),
    );
    return client;
  }

  reload(): void {
    this.client.close();
    this.client = this.open();
  }

  at(): Date {
    return new Date((this.clock += 1000));
  }

  nextId(): string {
    return `00000000-0000-4000-8000-${String(++this.counter).padStart(12, "0")}`;
  }

  /** Ids of issues the client can see (writes target these, as a user would). */
  visibleIssues(): string[] {
    return [...this.viewOf("issues").keys()];
  }

  mutate(
    name: keyof typeof mutationsByName,
    input: Record<string, unknown>,
  ): void {
    const call: (typeof this.calls)[number] = { input: JSON.stringify(input) };
    this.calls.push(call);
    this.client.mutate(mutationsByName[name], input as never).then(
      (result) => {
        call.outcome = "resolved";
        call.txid = result.txid;
      },
      (error: Error) => (call.outcome = error.name),
    );
  }

  respond(): void {
    const head = this.inFlight.shift();
    if (!head) return;
    if (!this.online) {
      head.reject(new TypeError("fetch failed"));
      return;
    }
    try {
      head.resolve(this.backend.execute(head.request));
    } catch (error) {
      head.reject(error);
    }
  }

  foreign(op: "create" | "update" | "delete", pick: number): void {
    const issues = [...this.backend.tables.issues.keys()];
    const target = issues[pick % Math.max(1, issues.length)];
    const changes: RowChange[] = [];
    if (op === "create" || !target)
      changes.push(
        ...mutations.issues.create.reduce(
          viewOf(this.backend.tables),
          {
            id: this.nextId(),
            projectId: PROJECT,
            title: "from elsewhere",
            sortKey: "a0",
            at: this.at(),
          },
          { userId: USER_ID },
        ),
      );
    else if (op === "update")
      changes.push({
        type: "update",
        table: "issues",
        id: target,
        changes: {
          description: `edited elsewhere ${++this.counter}`,
          priority: this.counter % 2 ? "high" : "low",
          updatedAt: this.at(),
        },
      });
    else
      changes.push(
        ...mutations.issues.delete.reduce(
          viewOf(this.backend.tables),
          { id: target },
          { userId: USER_ID },
        ),
      );
    this.backend.commit(changes);
  }

  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++)
      await new Promise((resolve) => setImmediate(resolve));
  }

  /** The view the model predicts: each stream's delivered rows, then the queue's reducers. */
  expectedView(): RowTables {
    const tables = emptyRowTables();
    for (const table of TABLES)
      for (const [id, row] of this.deliveredOf(table))
        (tables[table] as Map<string, AnyRow>).set(id, row);
    for (const write of this.client.pendingWrites()) {
      const definition =
        mutationsByName[write.name as keyof typeof mutationsByName];
      const changes = definition.reduce(
        viewOf(tables),
        definition.input.parse(write.input) as never,
        { userId: USER_ID },
      );
      for (const change of changes) {
        const rows = tables[change.table] as Map<string, AnyRow>;
        if (change.type === "insert") rows.set(change.row.id, change.row);
        else if (change.type === "delete") rows.delete(change.id);
        else {
          const current = rows.get(change.id);
          if (current) rows.set(change.id, { ...current, ...change.changes });
        }
      }
    }
    return tables;
  }

  private deliveredOf(table: TableName): Map<string, AnyRow> {
    const [stream] = this.backend.streamsOf(table);
    return stream?.delivered ?? new Map<string, AnyRow>();
  }

  viewOf(table: TableName): Map<string, AnyRow> {
    const subscription = this.subscriptions.get(table);
    return new Map(subscription?.getSnapshot().rows);
  }
}

async function run(harness: Harness, step: Action): Promise<void> {
  const issues = harness.visibleIssues();
  const pick = (n: number) => issues[n % Math.max(1, issues.length)];
  switch (step.kind) {
    case "create":
      harness.mutate("issues.create", {
        id: harness.nextId(),
        projectId: PROJECT,
        title: step.refused
          ? "refused by the server"
          : `issue ${harness.calls.length}`,
        sortKey: "a0",
        at: harness.at(),
      });
      break;
    case "update": {
      const id = pick(step.pick);
      if (id)
        harness.mutate("issues.update", {
          id,
          title: `renamed ${harness.calls.length}`,
          status: "done",
          at: harness.at(),
        });
      break;
    }
    case "delete": {
      const id = pick(step.pick);
      if (id) harness.mutate("issues.delete", { id });
      break;
    }
    case "comment": {
      const issueId = pick(step.pick);
      if (issueId)
        harness.mutate("comments.create", {
          id: harness.nextId(),
          projectId: PROJECT,
          issueId,
          body: `comment ${harness.calls.length}`,
          at: harness.at(),
        });
      break;
    }
    case "foreign":
      harness.foreign(step.op, step.pick);
      break;
    case "respond":
      harness.respond();
      break;
    case "deliver":
      for (const stream of harness.backend.streamsOf(step.table))
        stream.deliver();
      break;
    case "refetch":
      for (const stream of harness.backend.streamsOf(step.table))
        stream.mustRefetch();
      break;
    case "reload":
      harness.reload();
      break;
    case "network":
      harness.online = step.online;
      if (step.online) harness.client.retryNow();
      break;
  }
  await harness.settle();
}

/**
 * A write resolves (leaves the queue as synced) only once its transaction is in the rows of
 * every stream of the tables it changed: never before, or the view would flash back to the
 * synced state without it.
 */
function expectResolvedWritesDelivered(harness: Harness): void {
  for (const call of harness.calls) {
    if (call.outcome !== "resolved" || call.txid === undefined || call.checked)
      continue;
    call.checked = true;
    const txid = call.txid;
    for (const table of harness.backend.tablesOf(txid))
      for (const stream of harness.backend.streamsOf(table))
        expect(
          stream.hasDelivered(txid),
          `${call.input} resolved before ${table} had txid ${txid}`,
        ).toBe(true);
  }
}

function expectViewMatchesModel(harness: Harness): void {
  const expected = harness.expectedView();
  for (const table of TABLES)
    expect(Object.fromEntries(harness.viewOf(table))).toEqual(
      Object.fromEntries(expected[table]),
    );
}

describe("client runtime model", () => {
  it("the view is always synced rows + pending reducers; once drained it equals the server, each write decided once under one id", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(action, { minLength: 1, maxLength: 60 }),
        async (steps) => {
          const harness = new Harness();
          await harness.client.ready;
          for (const stream of harness.backend.streams) stream.deliver();
          await harness.settle();
          for (const step of steps) {
            await run(harness, step);
            expectViewMatchesModel(harness);
            expectResolvedWritesDelivered(harness);
          }
          // Drain: back online, answer everything, deliver everything.
          harness.online = true;
          for (let round = 0; round < 500; round++) {
            harness.client.retryNow();
            harness.respond();
            for (const stream of harness.backend.streams)
              if (stream.isSubscribed && stream.hasPending) stream.deliver();
            await harness.settle();
            expectViewMatchesModel(harness);
            expectResolvedWritesDelivered(harness);
            if (
              harness.inFlight.length === 0 &&
              harness.client.pendingWrites().length === 0
            )
              break;
          }
          expect(harness.client.pendingWrites()).toEqual([]);
          expect(harness.client.getStatus()).toEqual({
            connection: "synced",
            pending: 0,
            unauthorized: false,
          });
          for (const table of TABLES)
            expect(Object.fromEntries(harness.viewOf(table))).toEqual(
              Object.fromEntries(harness.backend.tables[table]),
            );
          // Exactly once, under one id: as many decisions as calls for each input (two calls may
          // carry the same input, e.g. deleting one row twice), and nothing executed twice.
          const count = (inputs: string[]) =>
            inputs.reduce(
              (counts, input) =>
                counts.set(input, (counts.get(input) ?? 0) + 1),
              new Map<string, number>(),
            );
          expect(
            count([...harness.backend.decided.values()].map((d) => d.input)),
          ).toEqual(count(harness.calls.map((call) => call.input)));
          for (const count of harness.backend.executions.values())
            expect(count).toBe(1);
          harness.client.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});
