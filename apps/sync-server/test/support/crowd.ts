/**
 * Followers of the stress test: official `ShapeStream`s that join at random moments, each with
 * its own shape, live mode (long-poll or SSE) and replica mode, some stopped for a while and
 * resumed from the handle and offset they had applied (an app that keeps its rows), and at the
 * end each compared with a `SELECT` of its shape's rows once it has the final transaction.
 */
import type { Row } from "@electric-sql/client";
import type pg from "pg";

import type { Divergence, RowRules } from "./mirror";
import type { Random } from "./random";
import { Follower, isConverged } from "./mirror";

/** A shape to follow (beside its `table`) and the query of the rows it must hold. */
export interface ShapeChoice {
  where?: string;
  params?: string[];
  columns?: string[];
  /** `SELECT <columns> FROM <table> WHERE <where>`, with `params` as its values. */
  select: string;
}

interface Member {
  readonly name: string;
  readonly choice: ShapeChoice;
  readonly follower: Follower;
  paused: boolean;
}

export interface Verdict {
  name: string;
  divergence: Divergence;
  anomalies: readonly string[];
  /** Why it never got the final transaction, if it did not. */
  failure?: string;
}

export class Crowd {
  private readonly members: Member[] = [];
  /** Joins, pauses, resumes and refetches, for the run's summary. */
  readonly counts = { joined: 0, paused: 0, resumed: 0, reloaded: 0 };

  constructor(
    private readonly options: {
      url: string;
      table: string;
      rows: RowRules;
      random: Random;
    },
  ) {}

  get size(): number {
    return this.members.length;
  }

  /**
   * Deletes the shape of a random follower (`DELETE /v1/shape`, the server must allow it): its
   * followers get 409 and refetch, and the next one to join builds it anew under the writes.
   * Resolves with whether a shape was deleted.
   */
  async deleteShape(): Promise<boolean> {
    const handles = this.members.flatMap(({ follower }) =>
      follower.handle ? [follower.handle] : [],
    );
    if (handles.length === 0) return false;
    const query = new URLSearchParams({
      table: this.options.table,
      handle: this.options.random.pick(handles),
    });
    const response = await fetch(`${this.options.url}?${query.toString()}`, {
      method: "DELETE",
    });
    return response.status === 202;
  }

  join(choice: ShapeChoice): void {
    const { url, table, rows, random } = this.options;
    const liveSse = random.chance(0.5);
    const full = random.chance(0.5);
    const { select: _select, ...shape } = choice;
    const name = `#${this.members.length} ${liveSse ? "sse" : "long-poll"} ${full ? "replica=full" : "default"} ${JSON.stringify(shape)}`;
    const follower = new Follower(
      {
        url,
        params: {
          table,
          ...(choice.where !== undefined && { where: choice.where }),
          ...(choice.params && { params: choice.params }),
          ...(choice.columns && { columns: choice.columns }),
          ...(full && { replica: "full" as const }),
        },
        liveSse,
      },
      rows,
    );
    this.members.push({ name, choice, follower, paused: false });
    this.counts.joined++;
  }

  /**
   * One of: stop a running follower (to be resumed later from where it was), resume a stopped
   * one, or reload one at once (a page reload).
   */
  disturb(): void {
    const { random } = this.options;
    if (this.members.length === 0) return;
    const member = random.pick(this.members);
    if (member.paused) {
      member.paused = false;
      member.follower.reload();
      this.counts.resumed++;
    } else if (random.chance(0.6)) {
      member.paused = true;
      member.follower.stop();
      this.counts.paused++;
    } else {
      member.follower.reload();
      this.counts.reloaded++;
    }
  }

  resumeAll(): void {
    for (const member of this.members) {
      if (!member.paused) continue;
      member.paused = false;
      member.follower.reload();
      this.counts.resumed++;
    }
  }

  /**
   * Once every follower has the rows of the final transaction (`isFinal` picks them out of a
   * shape's rows), how each differs from its shape's rows in the table.
   */
  async verdicts(
    sql: Pick<pg.Pool, "query">,
    isFinal: (row: Row) => boolean,
    timeoutMs: number,
  ): Promise<Verdict[]> {
    return Promise.all(
      this.members.map(async ({ name, choice, follower }) => {
        const { rows } = await sql.query<Row>(choice.select, choice.params);
        const final = rows.filter(isFinal);
        if (final.length === 0)
          throw new Error(`${name}: the final transaction is not in its shape`);
        const hasFinal = (f: Follower) =>
          final.every((row) => f.mirror.holds(row));
        const failure = await follower
          .until(hasFinal, timeoutMs)
          .then(() => undefined)
          .catch((error: unknown) =>
            error instanceof Error ? error.message : String(error),
          );
        const verdict: Verdict = {
          name,
          divergence: follower.mirror.compare(rows),
          anomalies: follower.mirror.anomalies,
          ...(failure !== undefined && { failure }),
        };
        return verdict;
      }),
    );
  }

  stopAll(): void {
    for (const { follower } of this.members) follower.stop();
  }
}

export function isClean(verdict: Verdict): boolean {
  return verdict.failure === undefined && isConverged(verdict.divergence);
}
