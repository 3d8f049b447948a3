/**
 * An in-memory stand-in for the api + Electric, for unit and model tests of the runtime: a row
 * store that runs the shared reducers as its handlers (idempotent per client + mutation id, like
 * the api's mutation log), a transaction log with txids, and shape streams whose deliveries the
 * test controls one batch at a time. The integration tests use the real stack instead.
 */
import type {
  Message,
  Row,
  ShapeStreamInterface,
  ShapeStreamOptions,
} from "@electric-sql/client";

import type { MutationDefinition, RowChange, RowTables } from "@repo/mutations";
import type { TableName } from "@repo/schema";
import { emptyRowTables, viewOf } from "@repo/mutations";

import type { MutationRequest } from "../transport";
import type { AnyRow, MutationResult, Txid } from "../types";

interface Transaction {
  txid: Txid;
  changes: {
    table: TableName;
    operation: "insert" | "update" | "delete";
    row: AnyRow;
  }[];
}

export const USER_ID = "00000000-0000-4000-8000-000000000001";

/** The api's error as `@trpc/client` throws it: `message` + `data` with code and reason. */
export function apiError(code: string, reason: string, httpStatus = 400) {
  return Object.assign(new Error(reason), {
    data: { code, reason, httpStatus, retryable: false, zodError: null },
  });
}

export class FakeBackend {
  readonly tables: RowTables = emptyRowTables();
  readonly log: Transaction[] = [];
  /** (client id, mutation id) → the recorded answer, as the api's mutation log keeps it. */
  readonly decided = new Map<
    string,
    { result?: MutationResult; error?: Error; input: string }
  >();
  /** How many times each (client, mutation id) was executed (must stay ≤ 1). */
  readonly executions = new Map<string, number>();
  readonly streams: FakeShapeStream[] = [];
  /** The options each stream was created with (handle/offset of a resumed shape, params). */
  readonly streamOptions: ShapeStreamOptions<unknown>[] = [];
  private nextTxid = 1_000;

  constructor(
    private readonly definitions: Readonly<Record<string, MutationDefinition>>,
    /** Decides a definitive refusal before running the handler (e.g. a forbidden title). */
    private readonly refuse: (
      request: MutationRequest,
    ) => Error | undefined = () => undefined,
  ) {}

  /** Runs one call the way the api does; replays of a decided call return the recorded answer. */
  execute(request: MutationRequest): MutationResult {
    const key = `${request.clientId}:${request.mutationId}`;
    const recorded = this.decided.get(key);
    if (recorded) {
      if (recorded.input !== JSON.stringify(request.args))
        throw apiError("CONFLICT", "mutation_id_reused", 409);
      if (recorded.result) return recorded.result;
      throw recorded.error ?? new Error("nothing recorded");
    }
    this.executions.set(key, (this.executions.get(key) ?? 0) + 1);
    const input = JSON.stringify(request.args);
    try {
      const refusal = this.refuse(request);
      if (refusal) throw refusal;
      const definition = this.definitions[request.name];
      if (!definition) throw apiError("NOT_FOUND", "not_found", 404);
      const args = definition.input.parse(request.args) as never;
      const changes = definition.reduce(viewOf(this.tables), args, {
        userId: USER_ID,
      });
      // Like the api's handlers: a write that finds nothing to change is refused (an update of
      // a row that is gone predicts no change), never committed as an empty transaction.
      if (changes.length === 0) throw apiError("NOT_FOUND", "not_found", 404);
      for (const change of changes) this.check(change);
      const txid = this.commit(changes);
      const result: MutationResult = { data: { ok: true }, txid };
      this.decided.set(key, { result, input });
      return result;
    } catch (error) {
      this.decided.set(key, { error: error as Error, input });
      throw error;
    }
  }

  private check(change: RowChange): void {
    const rows = this.tables[change.table] as Map<string, AnyRow>;
    if (change.type === "insert" && rows.has(change.row.id))
      throw apiError("CONFLICT", "duplicate", 409);
    if (change.type !== "insert" && !rows.has(change.id))
      throw apiError("NOT_FOUND", "not_found", 404);
  }

  /** Commits changes as one transaction (a write of another client, or a handler's). */
  commit(changes: readonly RowChange[]): Txid {
    const txid = this.nextTxid++;
    const transaction: Transaction = { txid, changes: [] };
    for (const change of changes) {
      const rows = this.tables[change.table] as Map<string, AnyRow>;
      if (change.type === "insert") {
        rows.set(change.row.id, change.row);
        transaction.changes.push({
          table: change.table,
          operation: "insert",
          row: change.row,
        });
      } else if (change.type === "update") {
        const current = rows.get(change.id);
        if (!current) continue;
        const row: AnyRow = Object.assign({}, current, change.changes);
        rows.set(change.id, row);
        transaction.changes.push({
          table: change.table,
          operation: "update",
          row,
        });
      } else {
        const current = rows.get(change.id);
        if (!current) continue;
        rows.delete(change.id);
        transaction.changes.push({
          table: change.table,
          operation: "delete",
          row: current,
        });
      }
    }
    this.log.push(transaction);
    return txid;
  }

  /** `snapshot-end` of a snapshot taken now: every committed txid is visible in it. */
  snapshotPosition() {
    return {
      xmin: String(this.nextTxid) as `${bigint}`,
      xmax: String(this.nextTxid) as `${bigint}`,
      xip_list: [] as `${bigint}`[],
    };
  }

  /** The `createStream` option for the client under test. */
  createStream = (
    options: ShapeStreamOptions<unknown>,
  ): ShapeStreamInterface<Row<unknown>> => {
    const table = (options.params as { table: TableName }).table;
    const stream = new FakeShapeStream(this, table);
    this.streamOptions.push(options);
    options.signal?.addEventListener("abort", () => stream.abort());
    this.streams.push(stream);
    return stream as unknown as ShapeStreamInterface<Row<unknown>>;
  };

  /** Tables a committed transaction changed. */
  tablesOf(txid: Txid): TableName[] {
    const transaction = this.log.find((t) => t.txid === txid);
    return [...new Set(transaction?.changes.map((change) => change.table))];
  }

  /** Live streams (not unsubscribed) of a table. */
  streamsOf(table: TableName): FakeShapeStream[] {
    return this.streams.filter(
      (stream) => stream.table === table && stream.isSubscribed,
    );
  }
}

type Subscriber = (messages: Message<Row<unknown>>[]) => void;

/** One shape stream of the whole table; sends nothing until the test says `deliver()`. */
export class FakeShapeStream {
  /** Rows as this stream has delivered them (what the client's synced rows should be). */
  readonly delivered = new Map<string, AnyRow>();
  /** How many transactions of the log this stream has delivered (snapshots included). */
  private position = 0;
  private subscriber: Subscriber | undefined;
  private needsSnapshot = true;

  constructor(
    private readonly backend: FakeBackend,
    readonly table: TableName,
  ) {}

  get isSubscribed(): boolean {
    return this.subscriber !== undefined;
  }

  subscribe(callback: Subscriber): () => void {
    this.subscriber = callback;
    return () => {
      this.subscriber = undefined;
    };
  }

  /** Whether the transaction with `txid` is in what this stream delivered. */
  hasDelivered(txid: Txid): boolean {
    const index = this.backend.log.findIndex((t) => t.txid === txid);
    return index >= 0 && index < this.position && !this.needsSnapshot;
  }

  /** Whether the client aborted the stream (a released shape must stop requesting). */
  aborted = false;

  abort(): void {
    this.aborted = true;
  }

  /** Whether a `deliver()` would send anything. */
  get hasPending(): boolean {
    return this.needsSnapshot || this.position < this.backend.log.length;
  }

  /** Sends the snapshot (first time, or after `refetch`) or the transactions since the last batch. */
  deliver(): void {
    const messages: Message<Row<unknown>>[] = [];
    if (this.needsSnapshot) {
      this.needsSnapshot = false;
      this.delivered.clear();
      for (const row of this.backend.tables[this.table].values()) {
        this.delivered.set(row.id, row);
        messages.push(change("insert", row));
      }
      messages.push({
        headers: {
          control: "snapshot-end",
          ...this.backend.snapshotPosition(),
        },
      });
      this.position = this.backend.log.length;
    } else {
      for (const transaction of this.backend.log.slice(this.position))
        for (const item of transaction.changes) {
          if (item.table !== this.table) continue;
          if (item.operation === "delete") this.delivered.delete(item.row.id);
          else this.delivered.set(item.row.id, item.row);
          messages.push(change(item.operation, item.row, transaction.txid));
        }
      this.position = this.backend.log.length;
    }
    messages.push({ headers: { control: "up-to-date" } });
    this.subscriber?.(messages);
  }

  /** A 409: the client must start over; the new snapshot comes with the next `deliver()`. */
  mustRefetch(): void {
    this.needsSnapshot = true;
    this.subscriber?.([{ headers: { control: "must-refetch" } }]);
  }
}

function change(
  operation: "insert" | "update" | "delete",
  row: AnyRow,
  txid?: Txid,
): Message<Row<unknown>> {
  return {
    key: `"public"."table"/"${row.id}"`,
    value: (operation === "delete"
      ? { id: row.id }
      : row) as unknown as Row<unknown>,
    headers: { operation, ...(txid !== undefined && { txids: [txid] }) },
  };
}
