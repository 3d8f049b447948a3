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
 * `TransactionSlot`. If the slot has a statement for `BEGIN` (txid and client lock), `BEGIN`
 * is deferred: Prisma gets its result at once, and `BEGIN; <statement>` goes out with the
 * transaction's first statement in one round trip (simple query protocol): the handler's
 * first `query` (its values inlined as literals), or `COMMIT`; before any other statement
 * (Prisma's) it takes a round trip of its own, as without deferral. A transaction that sent
 * nothing rolls back without a round trip. Once Prisma sends `COMMIT` or `ROLLBACK` (commit,
 * failure or its timeout) the slot is closed and refuses further statements, so nothing can
 * run outside the transaction or on a connection returned to the pool.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import pg, { escapeLiteral } from "pg";

/** A statement `withTxid` sends together with `BEGIN` (no parameters: simple query protocol). */
export interface BeginWith {
  sql: string;
  /** Receives the rows of `sql` (objects keyed by column). */
  onRows: (rows: Record<string, unknown>[]) => void;
}

/**
 * A statement for a simple-protocol round trip. With `name`, it is prepared once per connection
 * by SQL `PREPARE` and sent as `EXECUTE name(<literals>)`, so Postgres plans it once; without,
 * its values are inlined as literals (see `inlineParameters`).
 */
export interface Statement {
  sql: string;
  values?: readonly unknown[];
  name?: string;
}

/** The connection of one transaction, as `withTxid` sees it. */
export class TransactionSlot {
  /** Set by the connection that sent this transaction's `BEGIN`. */
  connection: pg.Client | undefined;
  /** Set once `COMMIT`/`ROLLBACK` was sent on it. */
  closed = false;
  /** `BEGIN; <beginWith.sql>` is still to be sent, with the transaction's first statement. */
  beginDeferred = false;
  /**
   * A statement to send with Prisma's `COMMIT` in one round trip: `<commitWith>; COMMIT`. If it
   * fails, nothing commits (see `commit` below); once committed, its rows go to `onRows`.
   */
  commitWith:
    | (Statement & { onRows?: (rows: Record<string, unknown>[]) => void })
    | undefined;
  /** The error of the `COMMIT` round trip, as pg reported it (Prisma wraps what it rethrows). */
  commitFailure: unknown;

  constructor(readonly beginWith?: BeginWith) {}

  /** Whether statements can go straight to the transaction's connection. */
  get isOpen(): boolean {
    return this.connection !== undefined && !this.closed;
  }

  /**
   * Runs one statement on the transaction's connection. `name` makes it a prepared statement
   * (parsed once per connection), unless it is the transaction's first and travels with
   * `BEGIN`, inlined.
   */
  async query<R extends pg.QueryResultRow>(
    sql: string,
    values: unknown[],
    name?: string,
  ): Promise<R[]> {
    const connection = this.connection;
    if (!connection || this.closed)
      throw new Error("the transaction is no longer open");
    const simple = this.beginDeferred
      ? await simpleText(connection, { sql, values, name })
      : undefined;
    // `closed` may have been set while simpleText was awaited; TypeScript keeps its narrowing.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (simple !== undefined && this.beginDeferred && !this.closed) {
      this.beginDeferred = false;
      const results = await sendWithBegin(connection, this, simple);
      return (results[2]?.rows ?? []) as R[];
    }
    // A deferred BEGIN that cannot carry this statement goes first (see the client's query).
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

/**
 * A transaction on a connection taken from the pool without Prisma: its `BEGIN` (with
 * `beginWith`) travels with the first statement, and `connection.query("COMMIT")` or
 * `"ROLLBACK"` ends it as Prisma's would.
 */
export function slotOnConnection(
  connection: pg.Client,
  beginWith: BeginWith,
): TransactionSlot {
  const slot = new TransactionSlot(beginWith);
  slot.connection = connection;
  slot.beginDeferred = true;
  slotOfConnection.set(connection, slot);
  return slot;
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

function send(
  connection: pg.Client,
  config: unknown,
): Promise<pg.QueryResult | pg.QueryResult[]> {
  return Reflect.apply(baseQuery, connection, [config]) as Promise<
    pg.QueryResult | pg.QueryResult[]
  >;
}

/** What Prisma gets for a statement that was not sent (deferred BEGIN, empty transaction). */
function notSent(command: string): pg.QueryResult {
  return { command, rowCount: null, oid: 0, rows: [], fields: [] };
}

/** `pg.Client` that recognises the `BEGIN`/`COMMIT`/`ROLLBACK` of slotted transactions. */
export class TransactionAwareClient extends pg.Client {}

Object.defineProperty(TransactionAwareClient.prototype, "query", {
  value: function query(this: pg.Client, ...args: unknown[]): unknown {
    const text = textOf(args[0]);
    if (text === "BEGIN") {
      const slot = waitingSlot.getStore();
      // Only the first BEGIN in the slot's context is its transaction's (a stray
      // `db.$transaction` inside the callback opens another connection: not ours).
      if (slot && slot.connection === undefined && !slot.closed) {
        slot.connection = this;
        slotOfConnection.set(this, slot);
        if (slot.beginWith && args.length === 1) {
          slot.beginDeferred = true;
          return Promise.resolve(notSent("BEGIN"));
        }
      }
      return Reflect.apply(baseQuery, this, args);
    }
    const slot = slotOfConnection.get(this);
    if (!slot) return Reflect.apply(baseQuery, this, args);
    if (text === "COMMIT" || text === "ROLLBACK") {
      slot.closed = true;
      slotOfConnection.delete(this);
      const deferred = slot.beginDeferred;
      slot.beginDeferred = false;
      // Nothing was sent: there is no transaction to roll back.
      if (text === "ROLLBACK" && deferred)
        return Promise.resolve(notSent("ROLLBACK"));
      if (text === "COMMIT" && (deferred || slot.commitWith !== undefined))
        return commit(this, slot, deferred);
      return Reflect.apply(baseQuery, this, args);
    }
    if (!slot.beginDeferred) return Reflect.apply(baseQuery, this, args);
    // Another statement first (Prisma's, or one that cannot be inlined): BEGIN in a round trip
    // of its own, queued ahead of it on the connection.
    slot.beginDeferred = false;
    const begun = sendWithBegin(this, slot, undefined);
    if (typeof args[args.length - 1] === "function")
      return begun.then(
        () => Reflect.apply(baseQuery, this, args),
        (error: unknown) =>
          (args[args.length - 1] as (e: unknown) => void)(error),
      );
    const result = Reflect.apply(baseQuery, this, args) as Promise<unknown>;
    return begun.then(
      () => result,
      (error: unknown) => {
        // The statement fails too (aborted transaction); the BEGIN round trip's error is the cause.
        result.catch(() => undefined);
        throw error;
      },
    );
  },
  writable: true,
  configurable: true,
});

/**
 * `BEGIN; <beginWith.sql>[; <statement>]` in one round trip; `beginWith`'s rows go to its
 * `onRows`. Resolves with all results (BEGIN's, beginWith's, the statement's). If it fails,
 * the transaction is aborted (or never began): Prisma's ROLLBACK follows when the callback
 * fails.
 */
async function sendWithBegin(
  connection: pg.Client,
  slot: TransactionSlot,
  statement: string | undefined,
): Promise<pg.QueryResult[]> {
  const beginWith = slot.beginWith;
  if (!beginWith) throw new Error("deferred BEGIN without a statement");
  const text = `BEGIN; ${beginWith.sql}${statement === undefined ? "" : `; ${statement}`}`;
  const results = await send(connection, text);
  if (!Array.isArray(results) || !results[1])
    throw new Error("BEGIN with a statement: no result");
  beginWith.onRows(results[1].rows as Record<string, unknown>[]);
  return results;
}

/**
 * Prisma's `COMMIT` with what has to travel with it, in one round trip: the deferred
 * `BEGIN; <beginWith.sql>` of a transaction that sent nothing yet, and `commitWith`. Prisma
 * gets the result of `COMMIT`. If a statement fails, Postgres skips the rest and the
 * transaction is left aborted: this sends `ROLLBACK` before rejecting, so the connection goes
 * back to the pool clean (Prisma's adapter only releases it). The error is kept on the slot
 * too, unwrapped.
 */
async function commit(
  connection: pg.Client,
  slot: TransactionSlot,
  beginDeferred: boolean,
): Promise<pg.QueryResult> {
  try {
    const withCommit =
      slot.commitWith === undefined
        ? undefined
        : await simpleText(connection, slot.commitWith);
    if (slot.commitWith !== undefined && withCommit === undefined)
      throw new Error(
        "atCommit: the statement's values cannot travel as literals (text, numbers, booleans, null)",
      );
    const statements = [
      ...(beginDeferred && slot.beginWith ? ["BEGIN", slot.beginWith.sql] : []),
      ...(withCommit === undefined ? [] : [withCommit]),
      "COMMIT",
    ];
    const results = await send(connection, statements.join("; "));
    const all = Array.isArray(results) ? results : [results];
    if (beginDeferred && slot.beginWith)
      slot.beginWith.onRows((all[1]?.rows ?? []) as Record<string, unknown>[]);
    if (withCommit !== undefined)
      slot.commitWith?.onRows?.(
        (all[all.length - 2]?.rows ?? []) as Record<string, unknown>[],
      );
    return all[all.length - 1] ?? notSent("COMMIT");
  } catch (error) {
    slot.commitFailure = error;
    // After a failed COMMIT there is no transaction: Postgres only warns. A broken connection
    // fails here too; the original error is the answer either way.
    await send(connection, "ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/**
 * The SQL name a statement is prepared under: `kit_<name>` (apart from pg's protocol-level
 * names, which share the namespace and never start so). A name that is not a plain lower-case
 * identifier (e.g. `…_issues.description`) is made one, with a digest of the name so that two
 * names never meet. Derived once per name: a statement is executed by name on every call.
 */
function preparedNameOf(name: string): string {
  let prepared = preparedNameCache.get(name);
  if (prepared === undefined) {
    prepared = derivePreparedName(name);
    preparedNameCache.set(name, prepared);
  }
  return prepared;
}

function derivePreparedName(name: string): string {
  if (/^[a-z_][a-z0-9_]*$/.test(name) && name.length <= 59)
    return `kit_${name}`;
  const plain = name
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, 40);
  const digest = createHash("sha1").update(name).digest("hex").slice(0, 12);
  return `kit_${plain}_${digest}`;
}

/** Statement names are the program's own (a few dozen), not data: the map stays small. */
const preparedNameCache = new Map<string, string>();

/** Statements each connection has prepared by SQL `PREPARE` (kept for the session). */
const preparedNames = new WeakMap<pg.Client, Set<string>>();

/**
 * `statement` as text for a simple-protocol query: `EXECUTE <prepared name>(<literals>)` when
 * it has a name (`preparedNameOf`; preparing it first, in a round trip of its own, the first
 * time on this connection: a prepared statement outlives a rolled-back transaction, so it is
 * known to exist afterwards), else its text with literals. `undefined` if its values cannot be literals, or
 * (without a name) its text cannot take them safely.
 */
async function simpleText(
  connection: pg.Client,
  { sql, values = [], name }: Statement,
): Promise<string | undefined> {
  if (name === undefined)
    return values.length === 0 ? sql : inlineParameters(sql, values);
  const literals = values.map(toLiteral);
  if (literals.some((literal) => literal === undefined)) return undefined;
  const prepared = preparedNameOf(name);
  let names = preparedNames.get(connection);
  if (!names?.has(prepared)) {
    await send(connection, `PREPARE ${prepared} AS ${sql}`);
    names ??= new Set();
    names.add(prepared);
    preparedNames.set(connection, names);
  }
  return literals.length === 0
    ? `EXECUTE ${prepared}`
    : `EXECUTE ${prepared}(${literals.join(", ")})`;
}

/**
 * `sql` with its `$n` parameters replaced by literals, so it can travel in a simple-protocol
 * query; `undefined` when that is not certainly equivalent: quotes or comments in the text
 * (a `$n` there is not a parameter), or a value other than text, number, bigint, boolean or
 * null. Values become quoted literals of unknown type, which Postgres types from context
 * exactly as it types parameters.
 */
export function inlineParameters(
  sql: string,
  values: readonly unknown[],
): string | undefined {
  if (/['"]|--|\/\*/.test(sql)) return undefined;
  // Cleared in the replace callback, which TypeScript's narrowing does not see.
  let inlinable = true as boolean;
  const text = sql.replace(/\$(\d+)/g, (_, index: string) => {
    const position = Number(index) - 1;
    if (position >= values.length) {
      inlinable = false;
      return "";
    }
    const literal = toLiteral(values[position]);
    if (literal === undefined) inlinable = false;
    return literal ?? "";
  });
  return inlinable ? text : undefined;
}

function toLiteral(value: unknown): string | undefined {
  if (value === null || value === undefined) return "NULL";
  switch (typeof value) {
    case "string":
      return escapeLiteral(value);
    case "number":
      return Number.isFinite(value) ? `'${value}'` : undefined;
    case "bigint":
    case "boolean":
      return `'${value}'`;
    default:
      return undefined;
  }
}
