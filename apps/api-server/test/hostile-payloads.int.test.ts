/**
 * Generated mutation payloads, plausible and hostile, sent over HTTP to the API server in its
 * own process as any client could: every answer is a 200 or a 4xx, never a 5xx, and the synced
 * tables change only as a 200 explains (the reducer's prediction for that input, or nothing for
 * a replay); after a 4xx they are unchanged and the log gained no `ok` row.
 */
import type { z } from "zod";
import fc from "fast-check";
import superjson from "superjson";
import { expect, it } from "vitest";

import type { TestUser } from "@repo/api/testing";
import type { Db } from "@repo/db";
import type { MutationDefinition, MutationName } from "@repo/mutations";
import {
  createUser,
  mutate,
  newId,
  plain,
  snapshot,
  tick,
} from "@repo/api/testing";
import { applyRowChanges, mutationsByName, viewOf } from "@repo/mutations";
import {
  AssignableRoleSchema,
  IssuePrioritySchema,
  IssueStatusSchema,
  LIMITS,
} from "@repo/schema";

import type { ServerProcess } from "./support/server-process";
import { serverTest } from "./support/fixture";

let db: Db;
let server: ServerProcess;
let owner: TestUser;
let member: TestUser;
/**
 * Ids of rows that exist, by what an input field names, so plausible payloads hit real rows as
 * often as missing ones. Rows a 200 creates join them.
 */
const known: Record<
  "projects" | "members" | "issues" | "comments" | "users",
  string[]
> = { projects: [], members: [], issues: [], comments: [], users: [] };

serverTest.beforeAll(async ({ db: fileDb, server: fileServer }) => {
  db = fileDb;
  server = fileServer;
  owner = await createUser(db, "Owner");
  member = await createUser(db, "Member");
  const projectId = newId();
  const ownerMemberId = newId();
  const memberId = newId();
  const issueId = newId();
  const commentId = newId();
  await mutate(owner, "projects.create", {
    id: projectId,
    ownerMemberId,
    name: "Hostile",
    at: tick(),
  });
  await mutate(owner, "members.add", {
    id: memberId,
    projectId,
    userId: member.id,
    role: "member",
    at: tick(),
  });
  await mutate(member, "issues.create", {
    id: issueId,
    projectId,
    title: "Target",
    sortKey: "a0",
    at: tick(),
  });
  await mutate(member, "comments.create", {
    id: commentId,
    projectId,
    issueId,
    body: "Target",
    at: tick(),
  });
  known.users.push(owner.id, member.id);
  known.projects.push(projectId);
  known.members.push(ownerMemberId, memberId);
  known.issues.push(issueId);
  known.comments.push(commentId);
});

// Generators ---------------------------------------------------------------------------------

const hostileString = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\ud800b",
    "'; DROP TABLE issues; --",
    "$1",
    "__proto__",
    "x".repeat(LIMITS.issueDescription + 1),
  ),
  fc.string({ unit: "binary", maxLength: 40 }),
);
const hostileValue = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, 0, -1, 1e308, Number.MAX_SAFE_INTEGER, []),
  fc.jsonValue({ maxDepth: 2 }),
);
/** One of `ids`, read when a value is generated (they exist only after beforeAll). */
const oneOf = (ids: string[]) =>
  fc.nat().map((index) => ids[index % ids.length] ?? newId());
/** Mostly a row of `pool`, else a random or the nil uuid. */
const idFrom = (pool: keyof typeof known) =>
  fc.oneof(
    { weight: 8, arbitrary: oneOf(known[pool]) },
    { weight: 2, arbitrary: fc.uuid() },
    {
      weight: 1,
      arbitrary: fc.constant("00000000-0000-0000-0000-000000000000"),
    },
  );
const POOL_OF_TABLE = {
  users: "users",
  projects: "projects",
  project_members: "members",
  issues: "issues",
  comments: "comments",
} as const;
const POOL_OF_GROUP = {
  projects: "projects",
  members: "members",
  issues: "issues",
  comments: "comments",
} as const;
const date = fc.oneof(
  { weight: 8, arbitrary: fc.constant(null).map(() => tick()) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        "0001-01-01T00:00:00.000Z",
        "9999-12-31T23:59:59.999Z",
        "0000-01-01T00:00:00.000Z",
        "+010000-01-01T00:00:00.000Z",
        "-271821-04-20T00:00:00.000Z",
      )
      .map((text) => new Date(text)),
  },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: false }) },
);

/** A plausible value for an input field of mutation `name`, by the field's name. */
function plausible(name: MutationName, key: string): fc.Arbitrary<unknown> {
  const group = name.split(".")[0] as keyof typeof POOL_OF_GROUP;
  const creates = name.endsWith(".create") || name === "members.add";
  if (key === "at") return date;
  if (key === "id")
    return creates
      ? fc.oneof(
          { weight: 9, arbitrary: fc.uuid() },
          idFrom(POOL_OF_GROUP[group]),
        )
      : idFrom(POOL_OF_GROUP[group]);
  if (key === "ownerMemberId") return fc.uuid();
  if (key === "projectId") return idFrom("projects");
  if (key === "issueId") return idFrom("issues");
  if (key === "userId" || key === "assigneeId") return idFrom("users");
  if (key === "status") return fc.constantFrom(...IssueStatusSchema.options);
  if (key === "priority")
    return fc.constantFrom(...IssuePrioritySchema.options);
  if (key === "role")
    return fc.constantFrom(...AssignableRoleSchema.options, "owner");
  if (key === "archived") return fc.boolean();
  if (key === "sortKey") return fc.stringMatching(/^[!-~]{1,10}$/);
  return fc.string({ minLength: 1, maxLength: 30 });
}

function inputShape(definition: MutationDefinition): Record<string, z.ZodType> {
  return (definition.input as unknown as z.ZodObject).shape;
}

/** Args of `name`: each field plausible or hostile, present or not, sometimes an extra key. */
function argsOf(name: MutationName): fc.Arbitrary<Record<string, unknown>> {
  const shape = inputShape(mutationsByName[name]);
  const fields = Object.fromEntries(
    Object.keys(shape).map((key) => [
      key,
      fc.oneof(
        { weight: 30, arbitrary: plausible(name, key) },
        { weight: 1, arbitrary: hostileValue },
      ),
    ]),
  );
  const required = Object.entries(shape)
    .filter(([, field]) => !field.safeParse(undefined).success)
    .map(([key]) => key);
  return fc
    .tuple(
      fc.record(fields, { requiredKeys: required }),
      fc.oneof(
        { weight: 19, arbitrary: fc.constant(null) },
        {
          weight: 1,
          arbitrary: fc.tuple(fc.string({ maxLength: 12 }), hostileValue),
        },
      ),
    )
    .map(([args, extra]) => (extra ? { ...args, [extra[0]]: extra[1] } : args));
}

const names = Object.keys(mutationsByName) as MutationName[];

interface Call {
  name: MutationName;
  caller: "owner" | "member" | "anonymous";
  /** Which mutation id: the caller's next one, one used before, or a hostile value. */
  mutationId: { use: "next" | "previous" } | { value: unknown };
  /** Which client id: the caller's, the other user's, or a hostile value. */
  clientId: { use: "own" | "other" } | { value: unknown };
  args: Record<string, unknown>;
  /** How the body is encoded: superjson as clients do, or with its meta tampered with. */
  encoding: "superjson" | "tampered-meta" | "raw-json";
}

const call: fc.Arbitrary<Call> = fc.constantFrom(...names).chain((name) =>
  fc.record({
    name: fc.constant(name),
    caller: fc.constantFrom(
      "owner",
      "owner",
      "owner",
      "member",
      "member",
      "member",
      "anonymous",
    ),
    mutationId: fc.oneof(
      { weight: 8, arbitrary: fc.constant({ use: "next" as const }) },
      { weight: 2, arbitrary: fc.constant({ use: "previous" as const }) },
      { weight: 1, arbitrary: hostileValue.map((value) => ({ value })) },
    ),
    clientId: fc.oneof(
      { weight: 8, arbitrary: fc.constant({ use: "own" as const }) },
      { weight: 1, arbitrary: fc.constant({ use: "other" as const }) },
      { weight: 1, arbitrary: hostileValue.map((value) => ({ value })) },
    ),
    args: argsOf(name),
    encoding: fc.oneof(
      { weight: 8, arbitrary: fc.constant("superjson" as const) },
      { weight: 1, arbitrary: fc.constant("tampered-meta" as const) },
      { weight: 1, arbitrary: fc.constant("raw-json" as const) },
    ),
  }),
);

const TAMPERED_META = [
  { values: { "args.at": ["bigint"] } },
  { values: { "args.__proto__.polluted": ["Date"] } },
  { values: { args: [["class", "Object"]] } },
  { values: { "args.at": [["custom", "nope"]] } },
  { referentialEqualities: { args: ["clientId"] } },
];

// Sending ------------------------------------------------------------------------------------

const users = () => ({ owner, member });

/** superjson's encoding, or plain JSON where superjson refuses (keys like `prototype`). */
function serialize(payload: unknown) {
  try {
    return superjson.serialize(payload);
  } catch {
    return {
      json: JSON.parse(JSON.stringify(payload)) as unknown,
      meta: undefined,
    };
  }
}

function encode(payload: unknown, encoding: Call["encoding"], seed: number) {
  const { json, meta } = serialize(payload);
  if (encoding === "superjson") return { json, meta };
  if (encoding === "raw-json") return { json };
  return { json, meta: TAMPERED_META[seed % TAMPERED_META.length] };
}

async function send(c: Call, seed: number) {
  const user = c.caller === "anonymous" ? null : users()[c.caller];
  const self = user ?? member;
  const mutationId =
    "value" in c.mutationId
      ? c.mutationId.value
      : c.mutationId.use === "next"
        ? self.nextMutationId++
        : Math.max(1, self.nextMutationId - 1);
  const clientId =
    "value" in c.clientId
      ? c.clientId.value
      : c.clientId.use === "own"
        ? self.clientId
        : (self === owner ? member : owner).clientId;
  const payload = { clientId, mutationId, args: c.args };
  const response = await fetch(new URL(`/${c.name}?batch=1`, server.url), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(user && { authorization: `Bearer ${user.token}` }),
    },
    body: JSON.stringify({ 0: encode(payload, c.encoding, seed) }),
  });
  return { status: response.status, text: await response.text(), user };
}

async function okRows(): Promise<number> {
  const [row] = await db.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM mutation_log WHERE outcome = 'ok'`;
  return Number(row?.n);
}

it("generated payloads: 200 or 4xx, never 5xx; rows change only as a 200 explains", async () => {
  await fc.assert(
    fc.asyncProperty(call, fc.nat(), async (c, seed) => {
      const before = await snapshot(db);
      const logBefore = await okRows();
      const { status, text, user } = await send(c, seed);
      expect(status, text).toBeLessThan(500);
      const after = plain(await snapshot(db));
      if (status !== 200 || !user) {
        expect(status).toBeGreaterThanOrEqual(400);
        expect(after).toEqual(plain(before));
        expect(await okRows()).toBe(logBefore);
        return;
      }
      if ((await okRows()) === logBefore) {
        // Answered from the log (a retry): nothing written.
        expect(after).toEqual(plain(before));
        return;
      }
      // A new call: the database holds what the reducer predicts from the same input.
      const definition = mutationsByName[
        c.name
      ] as unknown as MutationDefinition;
      const args: unknown = definition.input.parse(c.args);
      const changes = definition.reduce(viewOf(before), args, {
        userId: user.id,
      });
      expect(after).toEqual(plain(applyRowChanges(before, changes)));
      for (const change of changes)
        if (change.type === "insert")
          known[POOL_OF_TABLE[change.table]].push(change.row.id);
    }),
    { numRuns: 200, interruptAfterTimeLimit: 25_000 },
  );
}, 60_000);
