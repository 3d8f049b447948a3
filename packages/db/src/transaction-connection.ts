/**
 * Lets `withTxid` run its own statements (txid, client lock, mutation log) on the pg connection
 * of a Prisma interactive transaction, without going through Prisma.
 *
 * Why: on the 2-core dev VM each statement through Prisma's interactive transaction costs about
 * 0.25 ms of CPU (query interpretation, result mapping, transaction bookkeeping), six times a
 * plain `pg` query. The envelope of a logged mutation is half of its statements.
 *
 * How: `createDb` builds its pool with `TransactionAwareClient`. When a transaction opened by
 * `withTxid` sends `BEGIN` (Prisma's adapter does, on the connection it checked out for that
 * transaction, within `withTxid`'s async context), the client hands itself to the waiting
 * `TransactionSlot` and, if asked, sends the first statement in the same round trip
 * (`BEGIN; SELECT …` in the simple query protocol). Once Prisma sends `COMMIT` or `ROLLBACK`
 * (commit, failure or its timeout) the slot is closed and refuses further statements, so
 * nothing can run outside the transaction or on a connection returned to the pool.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import pg from "pg";

/** A statement `withTxid` sends together with `BEGIN` (no parameters: simple query protocol). */
export interface BeginWith {
  sql: string;
  /** Receives the rows of `sql` (objects keyed by column). */
  onRows: (rows: Record<string, unknown>[]) => void;
}

/** The connection of one transaction, as `withTxid` sees it. */
export class TransactionSlot {
  /** Set by the connection that sent this transaction's `BEGIN`. */
  connection: pg.Client | undefined;
  /** Set once `COMMIT`/`ROLLBACK` was sent on it. */
  closed = false;
  /**
   * A statement (no parameters) to send with Prisma's `COMMIT` in one round trip:
   * `<commitWith>; COMMIT`. If it fails, nothing commits (see `commitWith` below).
   */
  commitWith: string | undefined;
  /** The error of `<commitWith>; COMMIT`, as pg reported it (Prisma wraps what it rethrows). */
  commitFailure: unknown;

  constructor(readonly beginWith?: BeginWith) {}

  /** Whether statements can go straight to the transaction's connection. */
  get isOpen(): boolean {
    return this.connection !== undefined && !this.closed;
  }

  /**
   * Runs one statement on the transaction's connection. `name` makes it a prepared statement
   * (parsed once per connection).
   */
  async query<R extends pg.QueryResultRow>(
    sql: string,
    values: unknown[],
    name?: string,
  ): Promise<R[]> {
    const connection = this.connection;
    if (!connection || this.closed)
      throw new Error("the transaction is no longer open");
    const result = await connection.query<R>({ text: sql, values, name });
    return result.rows;
  }
}

const waitingSlot = new AsyncLocalStorage<TransactionSlot>();
const slotOfConnection = new WeakMap<pg.Client, TransactionSlot>();

/** Runs `fn` (which opens one Prisma interactive transaction) with `slot` waiting for its BEGIN. */
export function withTransactionSlot<T>(slot: TransactionSlot, fn: () => T): T {
  return waitingSlot.run(slot, fn);
}

function textOf(config: unknown): string | undefined {
  if (typeof config === "string") return config;
  if (typeof config === "object" && config !== null) {
    const text: unknown = Reflect.get(config, "text");
    if (typeof text === "string") return text;
  }
  return undefined;
}

const baseQuery: (this: pg.Client, ...args: unknown[]) => unknown = Reflect.get(
  pg.Client.prototype,
  "query",
);

/** `pg.Client` that recognises the `BEGIN`/`COMMIT`/`ROLLBACK` of slotted transactions. */
export class TransactionAwareClient extends pg.Client {}

Object.defineProperty(TransactionAwareClient.prototype, "query", {
  value: function query(this: pg.Client, ...args: unknown[]): unknown {
    const text = textOf(args[0]);
    if (text === "COMMIT" || text === "ROLLBACK") {
      const slot = slotOfConnection.get(this);
      if (slot) {
        slot.closed = true;
        slotOfConnection.delete(this);
        if (
          text === "COMMIT" &&
          slot.commitWith !== undefined &&
          args.length === 1
        )
          return commitWith(this, args[0], slot, slot.commitWith);
      }
    } else if (text === "BEGIN") {
      const slot = waitingSlot.getStore();
      // Only the first BEGIN in the slot's context is its transaction's (a stray
      // `db.$transaction` inside the callback opens another connection: not ours).
      if (slot && slot.connection === undefined && !slot.closed) {
        slot.connection = this;
        slotOfConnection.set(this, slot);
        if (slot.beginWith && args.length === 1)
          return beginWith(this, args[0], slot.beginWith);
      }
    }
    return Reflect.apply(baseQuery, this, args);
  },
  writable: true,
  configurable: true,
});

/**
 * `BEGIN; <sql>` in one round trip. Prisma gets the result of `BEGIN` as it would have; the
 * second statement's rows go to `onRows`. If the second statement fails, the promise rejects
 * and Prisma's adapter discards the connection (its transaction dies with it).
 */
async function beginWith(
  connection: pg.Client,
  config: unknown,
  { sql, onRows }: BeginWith,
): Promise<unknown> {
  const merged =
    typeof config === "object" && config !== null
      ? {
          ...config,
          text: `BEGIN; ${sql}`,
          name: undefined,
          values: undefined,
          rowMode: undefined,
        }
      : `BEGIN; ${sql}`;
  const results = (await Reflect.apply(baseQuery, connection, [
    merged,
  ])) as pg.QueryResult[];
  const [begin, first] = results;
  if (!begin || !first) throw new Error("BEGIN with a statement: no result");
  onRows(first.rows as Record<string, unknown>[]);
  return begin;
}

/**
 * `<sql>; COMMIT` in one round trip; Prisma gets the result of `COMMIT`. If `sql` fails,
 * Postgres skips the `COMMIT` and the transaction is left aborted: this sends `ROLLBACK`
 * before rejecting, so the connection goes back to the pool clean (Prisma's adapter only
 * releases it). The error is kept on the slot too, unwrapped.
 */
async function commitWith(
  connection: pg.Client,
  config: unknown,
  slot: TransactionSlot,
  sql: string,
): Promise<unknown> {
  const text = `${sql}; COMMIT`;
  const merged =
    typeof config === "object" && config !== null
      ? { ...config, text, name: undefined, values: undefined }
      : text;
  try {
    const results = (await Reflect.apply(baseQuery, connection, [
      merged,
    ])) as pg.QueryResult[];
    return results[results.length - 1];
  } catch (error) {
    slot.commitFailure = error;
    // After a failed COMMIT there is no transaction: Postgres only warns. A broken connection
    // fails here too; the original error is the answer either way.
    await (
      Reflect.apply(baseQuery, connection, ["ROLLBACK"]) as Promise<unknown>
    ).catch(() => undefined);
    throw error;
  }
}
