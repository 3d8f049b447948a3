/**
 * `log=changes_only`, `offset=now` and subset snapshots (`requestSnapshot` / `fetchSnapshot`,
 * GET and POST) as TanStack DB's on-demand mode uses them.
 */
import { FetchError, ShapeStream } from "@electric-sql/client";
import { describe, expect } from "vitest";

import type { Harness } from "./support/harness";
import { syncTest } from "./support/fixture";
import {
  changeMessages,
  differsFromElectric,
  record,
  upToDateCount,
} from "./support/harness";

const test = syncTest;
let products = "";

test.beforeAll(async ({ h, table }) => {
  products = await table(
    "products (id int PRIMARY KEY, category text NOT NULL, price int NOT NULL)",
  );
  await h.sql.query(`
    INSERT INTO products SELECT g, CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END, g * 10 FROM generate_series(1, 20) g;
    CREATE TYPE subset_tier AS ENUM ('gold', 'silver');
    CREATE TABLE tiered (id int PRIMARY KEY, tier subset_tier NOT NULL);
    INSERT INTO tiered VALUES (1, 'gold'), (2, 'silver');
  `);
});

describe("changes_only and subsets", () => {
  test("log=changes_only delivers no snapshot rows, only later changes", async ({
    h,
  }) => {
    const recorded = record({
      url: h.shapeUrl,
      params: { table: products },
      log: "changes_only",
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    expect(changeMessages(recorded.messages)).toHaveLength(0);
    await h.write("UPDATE products SET price = 11 WHERE id = 1");
    await recorded.until((messages) => changeMessages(messages).length === 1);
    expect(changeMessages(recorded.messages)[0]?.value).toMatchObject({
      id: 1,
      price: 11,
    });
    recorded.stop();
  });

  test("offset=now starts at the log end", async ({ h }) => {
    const recorded = record({
      url: h.shapeUrl,
      params: { table: products, where: "category = 'odd'" },
      offset: "now",
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    expect(changeMessages(recorded.messages)).toHaveLength(0);
    await h.write("UPDATE products SET price = 31 WHERE id = 3");
    await recorded.until((messages) => changeMessages(messages).length === 1);
    recorded.stop();
  });

  test.for(["GET", "POST"] as const)(
    "requestSnapshot via %s: ordered, limited, narrowed subset, then live changes",
    async (method, { h }) => {
      const controller = new AbortController();
      const stream = new ShapeStream({
        url: h.shapeUrl,
        params: {
          table: products,
          where: "category = $1",
          params: ["even"],
        },
        log: "changes_only",
        offset: "now",
        subsetMethod: method,
        signal: controller.signal,
      });
      const seen: unknown[] = [];
      stream.subscribe((messages) => {
        seen.push(...messages);
      });
      const { metadata, data } = await stream.requestSnapshot({
        where: "price > $1",
        params: { "1": "100" },
        orderBy: "price DESC",
        limit: 3,
      });
      const { rows: expected } = await h.sql.query<{
        id: number;
        category: string;
        price: number;
      }>(
        "SELECT id, category, price FROM products WHERE category = 'even' AND price > 100 ORDER BY price DESC LIMIT 3",
      );
      expect(expected).toHaveLength(3);
      expect(data.map((m) => m.value)).toEqual(expected);
      expect(typeof metadata.xmin).toBe("string");
      expect(typeof metadata.xmax).toBe("string");
      expect(BigInt(metadata.database_lsn)).toBeGreaterThan(0n);
      const top = expected[0];
      const newPrice = (top?.price ?? 0) + 1;
      await h.write(
        `UPDATE products SET price = ${newPrice} WHERE id = ${top?.id}`,
      );
      await new Promise<void>((resolve) => {
        const check = () => {
          if (
            seen.some(
              (m) =>
                (m as { value?: { price?: number } }).value?.price === newPrice,
            )
          )
            resolve();
          else setTimeout(check, 20);
        };
        check();
      });
      controller.abort();
    },
  );

  test.for(["GET", "POST"] as const)(
    "fetchSnapshot with structured whereExpr/orderByExpr via %s (the client sends the SQL too)",
    async (method, { h }) => {
      const stream = new ShapeStream({
        url: h.shapeUrl,
        params: { table: products },
        log: "changes_only",
        offset: "now",
        subsetMethod: method,
      });
      const { data } = await stream.fetchSnapshot({
        whereExpr: {
          type: "func",
          name: "and",
          args: [
            {
              type: "func",
              name: "gt",
              args: [
                { type: "ref", column: "price" },
                { type: "val", paramIndex: 1 },
              ],
            },
            {
              type: "func",
              name: "eq",
              args: [
                { type: "ref", column: "category" },
                { type: "val", paramIndex: 2 },
              ],
            },
          ],
        },
        params: { "1": "100", "2": "odd" },
        orderByExpr: [{ column: "price", direction: "desc" }],
        limit: 2,
      });
      const { rows: expected } = await h.sql.query(
        "SELECT id, category, price FROM products WHERE price > 100 AND category = 'odd' ORDER BY price DESC LIMIT 2",
      );
      expect(expected).toHaveLength(2);
      expect(data.map((m) => m.value)).toEqual(expected);
    },
  );

  test("a where_expr without its SQL where → 400 (it would otherwise mean no filter)", async ({
    h,
    skip,
  }) => {
    differsFromElectric(
      { skip },
      "Electric ignores where_expr and would answer with the unfiltered subset",
    );
    const response = await fetch(
      h.shapeRequestUrl({
        table: products,
        offset: "-1",
        log: "full",
        subset__where_expr: JSON.stringify({ type: "ref", column: "price" }),
      }),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      message: "Invalid request",
      errors: {
        subset: {
          where_expr: [
            "is only accepted together with where: the server reads the SQL form (the official client sends both)",
          ],
        },
      },
    });
  });

  test("limit without order_by → 400 under errors.subset", async ({ h }) => {
    const stream = new ShapeStream({
      url: h.shapeUrl,
      params: { table: products },
      log: "changes_only",
      offset: "now",
    });
    const error = await stream
      .fetchSnapshot({ limit: 2 })
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(FetchError);
    expect((error as FetchError).status).toBe(400);
    expect((error as FetchError).json).toEqual({
      message: "Invalid request",
      errors: {
        subset: {
          order_by: ["order_by is required when limit or offset is present"],
        },
      },
    });
  });
});

describe("subset requests Postgres would refuse → 400, never 500", () => {
  type Failure = Record<string, unknown>;
  const shapeQuery = (h: Harness, table: string) => ({
    table: h.table(table),
    offset: "-1",
    log: "changes_only",
  });

  async function getSubset(
    h: Harness,
    table: string,
    subset: Record<string, string>,
  ) {
    const params: Record<string, string> = { ...shapeQuery(h, table) };
    for (const [key, value] of Object.entries(subset))
      params[`subset__${key}`] = value;
    const response = await fetch(h.shapeRequestUrl(params));
    return {
      status: response.status,
      body: (await response.json()) as Failure,
    };
  }

  async function postSubset(h: Harness, table: string, body: unknown) {
    const response = await fetch(h.shapeRequestUrl(shapeQuery(h, table)), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      body: (await response.json()) as Failure,
    };
  }

  const UNSPECIFIED =
    "Electric's answers to limits beyond bigint, non-string params and failing subset queries are not specified";
  const subsetError = (field: string) => ({
    message: "Invalid request",
    errors: { subset: { [field]: [expect.any(String)] } },
  });

  test.for<[string, Record<string, string>, string]>([
    [
      "limit beyond bigint",
      { limit: "99999999999999999999", order_by: "id" },
      "limit",
    ],
    [
      "offset beyond bigint",
      { offset: "9223372036854775808", order_by: "id" },
      "offset",
    ],
    [
      "limit of 309 digits",
      { limit: `1${"0".repeat(308)}`, order_by: "id" },
      "limit",
    ],
    ["division by zero", { where: "1/0 = 1" }, "where"],
    [
      "a param no enum value matches",
      { where: "tier = $1", params: '{"1":"nope"}' },
      "where",
    ],
    ["params that are not JSON", { where: "tier = $1", params: "{" }, "params"],
  ])("GET %s", async ([_name, subset, field], { h, skip }) => {
    differsFromElectric({ skip }, UNSPECIFIED);
    const table = subset.where?.includes("tier") ? "tiered" : "products";
    const { status, body } = await getSubset(h, table, subset);
    expect(status).toBe(400);
    expect(body).toEqual(subsetError(field));
  });

  test.for<[string, unknown, string]>([
    [
      "limit beyond bigint as a JSON number",
      { limit: 9223372036854775807, order_by: "id" },
      "limit",
    ],
    ["a fractional offset", { offset: 1.5, order_by: "id" }, "offset"],
    ["a negative limit", { limit: -1, order_by: "id" }, "limit"],
    ["division by zero", { where: "1/0 = 1" }, "where"],
    [
      "an object as param value",
      { where: "id = $1", params: { "1": { toString: 1 } } },
      "params",
    ],
    [
      "an array as param value",
      { where: "id = $1", params: { "1": ["1"] } },
      "params",
    ],
    [
      "null as param value",
      { where: "id = $1", params: { "1": null } },
      "params",
    ],
    ["an object as where", { where: { sql: "true" } }, "where"],
    [
      "a where of 100 KB",
      { where: `${"id = 1 OR ".repeat(10_000)}id = 2` },
      "where",
    ],
  ])("POST %s", async ([_name, body, field], { h, skip }) => {
    differsFromElectric({ skip }, UNSPECIFIED);
    const result = await postSubset(h, "products", body);
    expect(result.status).toBe(400);
    expect(result.body).toEqual(subsetError(field));
  });

  test("the largest bigint limit and numeric params are served", async ({
    h,
  }) => {
    const { status, body } = await postSubset(h, "products", {
      where: "price > $1",
      params: { "1": 150 },
      order_by: "id",
      limit: "9223372036854775807",
      offset: 1,
    });
    expect(status).toBe(200);
    expect((body.data as unknown[]).length).toBe(4);
  });
});
