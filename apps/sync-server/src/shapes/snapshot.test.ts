import pg from "pg";
import { describe, expect, it } from "vitest";

import type { Shape } from "./shape";
import { takeSnapshot } from "./snapshot";

describe("takeSnapshot", () => {
  it("fails the shape and resolves when no connection can be had (the server stopping): nothing rejects unheard", async () => {
    // Its pool ended, as when the server stops while a first shape waited for open writers.
    const pool = new pg.Pool();
    await pool.end();
    const failures: Error[] = [];
    const shape = {
      failSnapshot: (error: Error) => failures.push(error),
    } as unknown as Shape;
    await expect(takeSnapshot(pool, shape, 1_000)).resolves.toBeUndefined();
    expect(failures.map((error) => error.message)).toEqual([
      "Cannot use a pool after calling end on the pool",
    ]);
  });
});
