/**
 * A client's copy of a shape, built only from what the official `ShapeStream` delivered, and how
 * it differs from the table. Used by the fault and stress tests and the soak script. Rows are
 * keyed by one column (`id` unless told), and a `version` column, if the rows have one, must
 * rise with every update, so a change that arrives twice (or out of order) is seen as such
 * rather than silently re-applied.
 */
import type {
  Message,
  Offset,
  Row,
  ShapeStreamOptions,
} from "@electric-sql/client";
import type pg from "pg";
import {
  isChangeMessage,
  isControlMessage,
  ShapeStream,
} from "@electric-sql/client";

export interface Divergence {
  /** Rows in the table that the client lacks. */
  lost: number;
  /** Rows the client has that the table (or the shape's WHERE) has not. */
  extra: number;
  /** Rows both have, with different values. */
  wrong: number;
  /** Changes delivered twice or out of order: insert of a present row, update to an older or same version, delete of a missing row. */
  twice: number;
}

export const NO_DIVERGENCE: Divergence = {
  lost: 0,
  extra: 0,
  wrong: 0,
  twice: 0,
};

export function isConverged(divergence: Divergence): boolean {
  return (
    divergence.lost === 0 &&
    divergence.extra === 0 &&
    divergence.wrong === 0 &&
    divergence.twice === 0
  );
}

/** How a `Mirror` reads rows. */
export interface RowRules {
  /** The key column (default `id`). */
  key?: string;
  /**
   * A number that each update of a row raises by exactly one (e.g. a heartbeat count), read
   * from an update's value; undefined when the value lacks it. A gap is an update lost.
   */
  step?: (value: Row) => number | undefined;
}

class Mirror {
  readonly rows = new Map<string, Row>();
  private readonly keyColumn: string;
  constructor(private readonly rules: RowRules) {
    this.keyColumn = rules.key ?? "id";
  }

  twice = 0;
  refetches = 0;
  /** The first anomalies, for failure messages. */
  readonly anomalies: string[] = [];

  apply(messages: readonly Message<Row>[]): void {
    for (const message of messages) {
      if (isControlMessage(message)) {
        if (message.headers.control === "must-refetch") {
          this.rows.clear();
          this.refetches++;
        }
        continue;
      }
      if (!isChangeMessage(message)) continue;
      const key = text(message.value[this.keyColumn]);
      const existing = this.rows.get(key);
      switch (message.headers.operation) {
        case "insert":
          if (existing) this.anomaly(`insert of ${key}, already present`);
          this.rows.set(key, { ...message.value });
          break;
        case "update":
          if (!existing) {
            this.anomaly(`update of ${key}, which is missing`);
            this.rows.set(key, { ...message.value });
          } else {
            if (
              "version" in message.value &&
              Number(message.value.version) <= Number(existing.version)
            )
              this.anomaly(
                `update of ${key} to version ${text(message.value.version)} over ${text(existing.version)}`,
              );
            const step = this.rules.step?.(message.value);
            const before = this.rules.step?.(existing);
            if (
              step !== undefined &&
              before !== undefined &&
              step !== before + 1
            )
              this.anomaly(`update of ${key} from step ${before} to ${step}`);
            this.rows.set(key, { ...existing, ...message.value });
          }
          break;
        case "delete":
          if (!existing) this.anomaly(`delete of ${key}, which is missing`);
          this.rows.delete(key);
          break;
      }
    }
  }

  /** Compares with the rows the shape should hold now (e.g. from a `SELECT`). */
  compare(expected: readonly Row[]): Divergence {
    const wanted = new Map(
      expected.map((row) => [text(row[this.keyColumn]), row]),
    );
    let lost = 0;
    let wrong = 0;
    for (const [key, row] of wanted) {
      const have = this.rows.get(key);
      if (!have) lost++;
      else if (!sameRow(have, row)) wrong++;
    }
    let extra = 0;
    for (const key of this.rows.keys()) if (!wanted.has(key)) extra++;
    return { lost, extra, wrong, twice: this.twice };
  }

  /** Whether it has `row` (a row of the table), with the same values. */
  holds(row: Row): boolean {
    const have = this.rows.get(text(row[this.keyColumn]));
    return have !== undefined && sameRow(have, row);
  }

  private anomaly(text: string): void {
    this.twice++;
    if (this.anomalies.length < 10) this.anomalies.push(text);
  }
}

function sameRow(a: Row, b: Row): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (text(a[key]) !== text(b[key])) return false;
  return true;
}

/** A value as comparable text (keys of `Mirror.rows` are the ids' text). */
function text(value: unknown): string {
  return typeof value === "bigint" ? value.toString() : JSON.stringify(value);
}

/**
 * A `ShapeStream` feeding a `Mirror`. It remembers the handle and offset of the last batch it
 * applied, as an app that persists its data would, so `reload()` can continue from there with
 * a new stream (a page reload) while keeping the rows.
 */
export class Follower {
  readonly mirror: Mirror;
  /** Set when the stream failed for good (the client gave up or got a 4xx). */
  failure: Error | undefined;
  private stored: { handle: string | undefined; offset: Offset } | undefined;
  private controller = new AbortController();
  private readonly waiters = new Set<() => void>();
  /** How many `up-to-date` messages it has received. */
  upToDate = 0;

  constructor(
    private readonly options: ShapeStreamOptions,
    rules: RowRules = {},
  ) {
    this.mirror = new Mirror(rules);
    this.open();
  }

  get handle(): string | undefined {
    return this.stored?.handle;
  }

  /** Ends the stream and opens a new one from the stored handle and offset. */
  reload(): void {
    this.controller.abort();
    this.controller = new AbortController();
    this.open();
  }

  stop(): void {
    this.controller.abort();
  }

  /** Resolves once `predicate` holds after a batch, rejects on failure or after `timeoutMs`. */
  until(
    predicate: (follower: Follower) => boolean,
    timeoutMs: number,
    describe: () => string = () => "",
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.failure) {
          done();
          reject(this.failure);
        } else if (predicate(this)) {
          done();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms; ${describe()} anomalies: ${JSON.stringify(this.mirror.anomalies)}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  private open(): void {
    const controller = this.controller;
    const stream = new ShapeStream({
      // Retries after the server went away come quickly (the client's default starts at 1 s
      // and doubles to 32 s), so a restart costs a test or a soak round little waiting.
      backoffOptions: { initialDelay: 100, maxDelay: 1_000, multiplier: 2 },
      ...this.options,
      ...(this.stored && {
        handle: this.stored.handle,
        offset: this.stored.offset,
      }),
      signal: controller.signal,
    });
    stream.subscribe(
      (batch) => {
        if (controller.signal.aborted) return;
        this.mirror.apply(batch);
        this.upToDate += batch.filter(
          (message) =>
            isControlMessage(message) &&
            message.headers.control === "up-to-date",
        ).length;
        this.stored = { handle: stream.shapeHandle, offset: stream.lastOffset };
        this.notify();
      },
      (error) => {
        if (controller.signal.aborted) return;
        this.failure = error;
        this.notify();
      },
    );
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Filters the fault tests and the soak follow `WRITER_TABLE_SQL` tables with (rows move between them). */
export const FAULT_WHERES = [undefined, "grp < 2", "grp = 3"];

export interface FollowedShape {
  /** E.g. `c03 sse grp = 3`. */
  name: string;
  where: string | undefined;
  follower: Follower;
}

/**
 * `count` clients of `table`: client i follows `wheres[i % wheres.length]`, in long-poll or
 * SSE by turns of `wheres.length`, so every filter is followed both ways.
 */
export function followShapes(
  url: string,
  table: string,
  count: number,
  wheres: readonly (string | undefined)[] = FAULT_WHERES,
): FollowedShape[] {
  return Array.from({ length: count }, (_, index) => {
    const where = wheres[index % wheres.length];
    const liveSse = Math.floor(index / wheres.length) % 2 === 1;
    return {
      name: `c${String(index + 1).padStart(2, "0")} ${liveSse ? "sse" : "lp "} ${where ?? "all"}`,
      where,
      follower: new Follower({
        url,
        params: { table, ...(where && { where }) },
        liveSse,
      }),
    };
  });
}

/** Resolves once every client has had its first `up-to-date` (its snapshot is in). */
export async function allUpToDate(
  shapes: readonly FollowedShape[],
  timeoutMs: number,
): Promise<void> {
  await Promise.all(
    shapes.map(({ follower }) =>
      follower.until((f) => f.upToDate >= 1, timeoutMs),
    ),
  );
}

/**
 * Waits (up to `timeoutMs`) until the client equals its shape's rows in the table now, and
 * returns how far it is from them then.
 */
export async function settle(
  sql: Pick<pg.Pool, "query">,
  table: string,
  { where, follower }: FollowedShape,
  timeoutMs: number,
): Promise<Divergence> {
  const { rows } = await sql.query<Row>(
    `SELECT id, grp, version, payload FROM ${table}${where ? ` WHERE ${where}` : ""}`,
  );
  await follower
    .until((f) => isConverged(f.mirror.compare(rows)), timeoutMs)
    .catch(() => undefined);
  return follower.mirror.compare(rows);
}
