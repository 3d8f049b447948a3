/**
 * The procedures through tRPC's fetch adapter, which the Next.js route handler
 * (apps/web/src/app/api/trpc/[trpc]/route.ts) uses: `@trpc/client` with httpBatchLink and
 * superjson, its requests handed straight to `fetchRequestHandler` (no Next.js process needed).
 */
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { afterAll, beforeAll, expect, it } from "vitest";

import type { Db } from "@repo/db";
import type { TestDatabase } from "@repo/test-support";
import { createDb } from "@repo/db";
import { createTestDatabase } from "@repo/test-support";

import type { AppRouter } from "../src";
import type { TestUser } from "./support";
import {
  appRouter,
  createBearerSessionResolver,
  createTRPCContext,
} from "../src";
import { createUser, newId, tick } from "./support";

let database: TestDatabase;
let db: Db;
let alice: TestUser;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  alice = await createUser(db, "Alice");
});
afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

function client(token: string) {
  const resolveSession = createBearerSessionResolver(db);
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: "http://web.test/api/trpc",
        transformer: superjson,
        headers: { authorization: `Bearer ${token}` },
        fetch: (input, init) => {
          const req = new Request(input as string, init);
          return fetchRequestHandler({
            endpoint: "/api/trpc",
            router: appRouter,
            req,
            createContext: () =>
              createTRPCContext({ db, headers: req.headers, resolveSession }),
          });
        },
      }),
    ],
  });
}

it("runs a batch of one client's mutations in order and returns dates as dates", async () => {
  const trpc = client(alice.token);
  const projectId = newId();
  const at = tick();
  const [project, issue] = await Promise.all([
    trpc.projects.create.mutate({
      clientId: alice.clientId,
      mutationId: 1,
      args: { id: projectId, ownerMemberId: newId(), name: "Via fetch", at },
    }),
    trpc.issues.create.mutate({
      clientId: alice.clientId,
      mutationId: 2,
      args: { id: newId(), projectId, title: "Batched", sortKey: "a", at },
    }),
  ]);
  expect(project.data.project.createdAt).toEqual(at);
  expect(issue.data.createdAt).toBeInstanceOf(Date);
  expect(issue.txid).toBeGreaterThan(project.txid);
});

it("answers bad input with BAD_REQUEST and field errors", async () => {
  const error = await client(alice.token)
    .issues.create.mutate({
      clientId: alice.clientId,
      mutationId: 3,
      args: {
        id: newId(),
        projectId: newId(),
        title: "",
        sortKey: "a",
        at: tick(),
      },
    })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TRPCClientError);
  expect((error as TRPCClientError<AppRouter>).data).toMatchObject({
    code: "BAD_REQUEST",
    httpStatus: 400,
    reason: "invalid_input",
    zodError: { fieldErrors: { title: [expect.any(String)] } },
  });
});
