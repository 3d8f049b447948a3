/**
 * Property: requests an attacker holding the secret (a compromised or buggy proxy) can send —
 * generated tables, WHERE clauses, params and subset requests, hostile on purpose — get a 4xx
 * or a 200, never a 5xx; each is answered within REQUEST_BOUND_MS; the writes replicated
 * after them reach a plain shape within the same bound (LIKE patterns, deep clauses and the
 * like are evaluated per replicated row, on the event loop); and nothing in the database
 * changes: the same relations, replica identities, published tables and rows.
 *
 * The server runs in a process of its own, so a stalled event loop shows as a timeout here
 * instead of stalling the test.
 */
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { TestDatabase } from "@repo/test-support";
import { createTestDatabase } from "@repo/test-support";

import type { CrashableServer } from "./support/crash-server";
import type { Recorded } from "./support/harness";
import { startCrashableServer } from "./support/crash-server";
import { changeMessages, ourServerOnly, record } from "./support/harness";

/** Longest a request may take, and a write to reach a live client. */
const REQUEST_BOUND_MS = 5_000;
const RUNS = 150;
const SECRET = "hostile-input-secret";

let database: TestDatabase;
let sql: pg.Pool;
let server: CrashableServer;
let plain: Recorded;

beforeAll(async () => {
  database = await createTestDatabase();
  sql = new pg.Pool({ connectionString: database.url, max: 2 });
  await sql.query(`
    CREATE TYPE mood AS ENUM ('happy', 'sad');
    CREATE TABLE items (id int PRIMARY KEY, title text NOT NULL, mood mood, n int,
      at timestamptz, tags text[]);
    ALTER TABLE items REPLICA IDENTITY FULL;
    INSERT INTO items
    SELECT g, repeat('a', g * 7) || CASE WHEN g % 5 = 0 THEN 'b' ELSE '' END,
      (ARRAY['happy', 'sad', NULL])[1 + g % 3]::mood, g - 20,
      '2024-01-01'::timestamptz + g * interval '1 day', ARRAY['t' || g % 4]
    FROM generate_series(1, 40) g;
    INSERT INTO items VALUES (41, repeat('a', 10000), 'happy', 0, NULL, '{}');
    CREATE VIEW items_view AS SELECT * FROM items;
    CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY);
  `);
  server = await startCrashableServer({
    databaseUrl: database.url,
    port: 0,
    secret: SECRET,
    slotName: `hostile_${database.name}`,
    publicationName: `pub_${database.name}`,
    longPollTimeoutMs: 2_000,
  });
  // The one table a 200 may publish, published before the property looks at the catalog.
  plain = record({
    url: `${server.url}/v1/shape`,
    params: { table: "items", secret: SECRET },
  });
  await plain.until((messages) => changeMessages(messages).length === 41);
});

afterAll(async () => {
  plain.stop();
  await server.kill();
  await sql.end();
  // Drops the slot the killed server left behind, too.
  await database.drop();
});

// --- Generators ---------------------------------------------------------------------------

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Random patterns, and runs of `%a` that a backtracking matcher takes exponential time on. */
const likePattern = fc.oneof(
  fc
    .array(fc.constantFrom("%", "%a", "a", "_", "b", "\\", "\\%", "A"), {
      maxLength: 40,
    })
    .map((parts) => parts.join("")),
  fc
    .tuple(
      fc.integer({ min: 8, max: 40 }),
      fc.constantFrom("b", "%b", "_b", "%a_b", "\\b"),
    )
    .map(([n, tail]) => `${"%a".repeat(n)}${tail}`),
);

/** Well-formed but deep: chains and nests of operators, calls, casts, NOT, brackets. */
function deep(maxLength: number): fc.Arbitrary<string> {
  const shapes: [number, (n: number) => string][] = [
    [5, (n) => `${"NOT ".repeat(n)}true`],
    [7, (n) => `${"lower(".repeat(n)}title${")".repeat(n)} = 'a'`],
    [2, (n) => `n${"+1".repeat(n)} > 0`],
    [2, (n) => `${"(".repeat(n)}id = 1${")".repeat(n)}`],
    [6, (n) => `title${"::text".repeat(n)} = 'a'`],
    [7, (n) => `title${" || 'a'".repeat(n)} = 'a'`],
    [7, (n) => `tags = ${"ARRAY[".repeat(n)}'a'${"]".repeat(n)}`],
    [
      24,
      (n) =>
        `${"CASE WHEN ".repeat(n)}true${" THEN true ELSE false END".repeat(n)}`,
    ],
    [10, (n) => `${"id = 1 AND (".repeat(n)}true${")".repeat(n)}`],
  ];
  // Mostly deep enough to have overflowed a recursive analyser (~1,000 levels) or the parser.
  return fc
    .tuple(fc.constantFrom(...shapes), fc.double({ min: 0.2, max: 1 }))
    .map(([[width, build], scale]) =>
      build(Math.max(1, Math.floor((scale * maxLength) / width))),
    );
}

const oddPredicate = fc.constantFrom(
  "id / 0 = 1",
  "n / (n - n) > 0",
  "1/0 = 1",
  "id = 99999999999999999999999",
  "n = 1e400",
  "n * 2147483647 * 2147483647 > 0",
  "title::int = 1",
  "at > 'infinity'",
  "at = '294277-01-01'",
  "at = '0000-01-01'",
  "mood = 'nope'",
  "mood = $1",
  "tags @> $1",
  "at > $1",
  "n = $1",
  "title LIKE $1",
  "title ILIKE $1 OR title NOT LIKE $2",
  "pg_sleep(10) IS NULL",
  "current_user = 'x'",
  "id IN (SELECT 1)",
  "id = 1; DROP TABLE items",
  "id = 1 -- comment",
  "id = 1 /* unterminated",
  "$$",
  "E'\\",
  "id = $0",
  "id = $99999999999",
  "true",
  "NULL",
  "",
  " ",
  "title = U&'\\0000'",
  "title = E'\\000'",
  "title = 'a\u0000b'",
  "(SELECT 1) = 1",
  "items.id = 1",
  "* = 1",
);

function where(maxLength: number): fc.Arbitrary<string> {
  const atom = fc.oneof(
    { weight: 3, arbitrary: oddPredicate },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom("LIKE", "ILIKE", "NOT ILIKE"), likePattern)
        .map(([op, pattern]) => `title ${op} ${quote(pattern)}`),
    },
    { weight: 2, arbitrary: deep(maxLength) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  );
  return fc.oneof(
    atom,
    fc
      .tuple(atom, fc.constantFrom(" AND ", " OR "), atom)
      .map((parts) => parts.join("")),
  );
}

const paramValue = fc.oneof(
  fc.constantFrom(
    `${"%a".repeat(14)}%b`,
    `${"%a".repeat(40)}b`,
    "nope",
    "happy",
    "a\u0000b",
    "9".repeat(400),
    "-infinity",
    "infinity",
    "294277-01-01",
    "0000-01-01 00:00:00Z",
    "{a,b}",
    "{",
    "1e400",
    "NaN",
    "",
  ),
  likePattern,
  fc.string({ maxLength: 20 }),
);

const table = fc.constantFrom(
  "items",
  "items",
  "items",
  "items",
  "public.items",
  '"items"',
  "information_schema.sql_features",
  "information_schema.tables",
  "pg_catalog.pg_authid",
  "pg_catalog.pg_class",
  "pg_toast.pg_toast_1255",
  "pg_temp.x",
  "items_view",
  "scratch",
  "nope",
  "items; DROP TABLE items",
  "items WHERE true",
  "",
);

const bigNumberText = fc.oneof(
  fc.bigInt({ min: -10n, max: 2n ** 70n }).map(String),
  fc.constantFrom(
    "99999999999999999999",
    "9223372036854775807",
    "9223372036854775808",
    `1${"0".repeat(310)}`,
    "-1",
    "1.5",
    "1e3",
    "abc",
    "",
  ),
);

interface HostileRequest {
  method: "GET" | "POST";
  query: Record<string, string>;
  body?: string;
}

/**
 * A WHERE clause and values for the `$n` it uses: mostly as many as it needs (so the clause
 * gets past the count check to analysis, the snapshot query and row evaluation), sometimes
 * one too few or too many.
 */
function whereWithParams(
  maxLength: number,
): fc.Arbitrary<{ where: string; params: string[] }> {
  return fc
    .tuple(
      where(maxLength),
      fc.array(paramValue, { minLength: 3, maxLength: 3 }),
      fc.constantFrom(0, 0, 0, 0, 0, 0, -1, 1),
    )
    .map(([clause, values, skew]) => {
      const used = [...clause.matchAll(/\$(\d{1,2})(?!\d)/g)].map((match) =>
        Number(match[1]),
      );
      const needed = Math.max(0, ...used);
      return {
        where: clause,
        params: values.slice(0, Math.max(0, Math.min(3, needed + skew))),
      };
    });
}

/** Undefined nine times out of ten. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 9, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary },
  );

/**
 * GET /v1/shape with a generated table, where, params, columns, replica and log. Other tables
 * than items mostly come without a WHERE (which would name items' columns and be refused
 * before the table is touched).
 */
const shapeRequest: fc.Arbitrary<HostileRequest> = fc
  .oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        table: fc.constant("items"),
        clause: fc.option(whereWithParams(12_000), {
          nil: undefined,
          freq: 10,
        }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ table, clause: rarely(whereWithParams(200)) }),
    },
  )
  .chain(({ table, clause }) =>
    fc.record({
      table: fc.constant(table),
      clause: fc.constant(clause),
      oddParamKey: rarely(fc.constantFrom("params[0]", "params[x]", "params")),
      columns: rarely(
        fc.constantFrom("id", "id,title", "id,nope", '"id"', "*", "id; DROP"),
      ),
      replica: rarely(fc.constantFrom("full", "default", "x")),
    }),
  )
  .map(({ table, clause, oddParamKey, columns, replica }) => {
    const query: Record<string, string> = { table, offset: "-1" };
    if (clause) {
      query.where = clause.where;
      clause.params.forEach(
        (value, index) => (query[`params[${index + 1}]`] = value),
      );
    }
    if (oddParamKey) query[oddParamKey] = "1";
    if (columns) query.columns = columns;
    if (replica) query.replica = replica;
    return { method: "GET", query };
  });

/** limit/offset: mostly fine, sometimes anything. */
const count = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 50 }).map(String) },
  { weight: 1, arbitrary: bigNumberText },
);

const subsetQuery = { table: "items", offset: "-1", log: "changes_only" };

/** GET with `subset__*` parameters (the client's GET form: JSON text for params). */
const subsetGet: fc.Arbitrary<HostileRequest> = fc
  .record({
    clause: whereWithParams(12_000),
    oddParams: rarely(
      fc.constantFrom("{", "[", "null", "1", '"x"', '{"1":{}}'),
    ),
    limit: rarely(count),
    offset: rarely(count),
    orderBy: fc.option(
      fc.constantFrom("id", "id", "title DESC", "nope", "id; DROP", "random()"),
      { nil: undefined },
    ),
  })
  .map(({ clause, oddParams, limit, offset, orderBy }) => {
    const query: Record<string, string> = {
      ...subsetQuery,
      subset__where: clause.where,
    };
    const params = oddParams ?? JSON.stringify(clause.params);
    if (clause.params.length > 0 || oddParams) query.subset__params = params;
    if (limit !== undefined) query.subset__limit = limit;
    if (offset !== undefined) query.subset__offset = offset;
    if (orderBy !== undefined) query.subset__order_by = orderBy;
    return { method: "GET", query };
  });

const jsonJunk = fc.oneof(
  fc.constantFrom(
    null,
    true,
    1e308,
    9223372036854775807,
    -1,
    1.5,
    { toString: 1 },
    ["1"],
  ),
  fc.string({ maxLength: 10 }),
);

/** POST with a JSON body (TanStack DB's form), values of any JSON type now and then. */
const subsetPost: fc.Arbitrary<HostileRequest> = fc
  .record({
    clause: whereWithParams(70_000),
    junkWhere: rarely(jsonJunk),
    junkParams: rarely(
      fc.oneof(
        fc.dictionary(fc.constantFrom("1", "2"), jsonJunk, { maxKeys: 2 }),
        jsonJunk,
      ),
    ),
    arrayParams: fc.boolean(),
    limit: rarely(fc.oneof(count, jsonJunk)),
    offset: rarely(fc.oneof(count, jsonJunk)),
    order_by: fc.option(fc.oneof(fc.constantFrom("id", "nope"), jsonJunk), {
      nil: undefined,
    }),
    raw: rarely(fc.constantFrom("{", "[]", "null", '"x"', "1")),
  })
  .map(({ clause, junkWhere, junkParams, arrayParams, raw, ...rest }) => {
    const params = arrayParams
      ? clause.params
      : Object.fromEntries(
          clause.params.map((value, index) => [String(index + 1), value]),
        );
    const body = {
      where: junkWhere ?? clause.where,
      params: junkParams ?? params,
      ...rest,
    };
    return {
      method: "POST",
      query: subsetQuery,
      body: raw ?? JSON.stringify(body),
    };
  });

const hostileRequest = fc.oneof(shapeRequest, subsetGet, subsetPost);

// --- Checks -------------------------------------------------------------------------------

async function send(request: HostileRequest): Promise<number> {
  const query = new URLSearchParams({ ...request.query, secret: SECRET });
  const response = await fetch(`${server.url}/v1/shape?${query.toString()}`, {
    method: request.method,
    headers: request.body ? { "content-type": "application/json" } : {},
    body: request.body,
    signal: AbortSignal.timeout(REQUEST_BOUND_MS),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Everything a request could alter: relations, replica identities, publications, rows. */
async function databaseState(): Promise<string> {
  const { rows } = await sql.query<{ state: string }>(`
    SELECT concat_ws(E'\\n',
      (SELECT string_agg(format('%s %s %s %s', c.oid, c.relname, c.relkind, c.relreplident),
                         ',' ORDER BY c.oid) FROM pg_class c),
      (SELECT string_agg(format('%s %s.%s', pubname, schemaname, tablename), ',' ORDER BY 1)
         FROM pg_publication_tables),
      (SELECT md5(string_agg(i::text, ',' ORDER BY id)) FROM items i WHERE id > 1),
      (SELECT count(*)::text FROM scratch)) AS state`);
  return rows[0]?.state ?? "";
}

describe("hostile input", () => {
  test(
    "generated hostile requests: 4xx or 200, within the bound, nothing altered",
    async (ctx) => {
      ourServerOnly(ctx, "runs our server in a process of its own");
      const before = await databaseState();
      expect(before).toMatch(/ public\.items(\n|$)/m);
      let write = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(hostileRequest, { minLength: 1, maxLength: 3 }),
          async (requests) => {
            for (const request of requests) {
              const status = await send(request);
              expect(
                status,
                JSON.stringify(request).slice(0, 2000),
              ).toBeLessThan(500);
            }
            // A replicated row that every hostile shape on items evaluates (a long run of
            // `a`s is what backtracking LIKE patterns choke on), then must reach a plain shape.
            write++;
            const title = `${"a".repeat(10_000)}-${write}`;
            await sql.query("UPDATE items SET title = $1 WHERE id = 1", [
              title,
            ]);
            await plain
              .until(
                (messages) =>
                  changeMessages(messages).some(
                    (message) => message.value.title === title,
                  ),
                REQUEST_BOUND_MS,
              )
              .catch(() => {
                throw new Error(
                  `write ${write} did not reach a plain shape within ${REQUEST_BOUND_MS} ms: the server is stalled`,
                );
              });
            // Still parsing and serving: a parser broken by some input would refuse everything.
            const alive = await send({
              method: "GET",
              query: { ...subsetQuery, subset__where: `id = ${write}` },
            });
            expect(alive, "a plain subset request after the run").toBe(200);
            expect(await databaseState()).toBe(before);
          },
        ),
        { numRuns: RUNS, endOnFailure: true },
      );
      const health = await fetch(`${server.url}/v1/health`);
      expect(health.status).toBe(200);
    },
    RUNS * 2 * REQUEST_BOUND_MS,
  );
});
