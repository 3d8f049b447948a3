/**
 * The API as another Node app uses it: `@trpc/client` with httpBatchLink + superjson, over real
 * HTTP, against the server running in its own process.
 */
import { request } from "node:http";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import { describe, expect, it } from "vitest";

import type { AppErrorData, AppRouter } from "@repo/api";
import type { TestUser } from "@repo/api/testing";
import type { Db } from "@repo/db";
import { MAX_REQUEST_BYTES } from "@repo/api";
import { createUser, newId, rowCounts, tick, xminOf } from "@repo/api/testing";

import type { ServerProcess } from "./support/server-process";
import { serverTest } from "./support/fixture";

let db: Db;
let server: ServerProcess;
let alice: TestUser;
let bob: TestUser;
let requests = 0;

serverTest.beforeAll(async ({ db: fileDb, server: fileServer }) => {
  db = fileDb;
  server = fileServer;
  alice = await createUser(db, "Alice");
  bob = await createUser(db, "Bob");
});

function clientFor(token: string | null) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: server.url,
        transformer: superjson,
        headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
        fetch: (...args: Parameters<typeof fetch>) => {
          requests++;
          return fetch(...args);
        },
      }),
    ],
  });
}

type ClientError = TRPCClientError<AppRouter> & {
  data: AppErrorData & { code: string; httpStatus: number };
};
async function clientError(call: Promise<unknown>): Promise<ClientError> {
  const error = await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  return error as ClientError;
}

describe("@trpc/client over HTTP", () => {
  it("sends a client's queued mutations in one batch; the server applies them in order", async () => {
    const client = clientFor(alice.token);
    const projectId = newId();
    const at = tick();
    const issueIds = [newId(), newId(), newId(), newId()];
    requests = 0;
    const [project, ...issues] = await Promise.all([
      client.projects.create.mutate({
        clientId: alice.clientId,
        mutationId: 1,
        args: { id: projectId, ownerMemberId: newId(), name: "Over HTTP", at },
      }),
      ...issueIds.map((id, index) =>
        client.issues.create.mutate({
          clientId: alice.clientId,
          mutationId: 2 + index,
          args: {
            id,
            projectId,
            title: `Issue ${index}`,
            sortKey: `a${index}`,
            at: tick(),
          },
        }),
      ),
    ]);
    expect(requests).toBe(1);
    // Dates survive the round trip as Dates (superjson).
    expect(project.data.project.createdAt).toEqual(at);
    expect(project.data.project.createdAt).toBeInstanceOf(Date);
    // Applied in id order: each later mutation committed in a later transaction.
    const txids = [project, ...issues].map((result) => result.txid);
    expect([...txids].sort((a, b) => a - b)).toEqual(txids);
    for (const [index, id] of issueIds.entries())
      expect(await xminOf(db, "issues", id)).toBe(issues[index]?.txid);
  });

  it("answers a retry of the same call with the original result", async () => {
    const client = clientFor(bob.token);
    const call = {
      clientId: bob.clientId,
      mutationId: 1,
      args: { id: newId(), ownerMemberId: newId(), name: "Bob's", at: tick() },
    };
    const first = await client.projects.create.mutate(call);
    const before = await rowCounts(db);
    const again = await client.projects.create.mutate(call);
    expect(again).toEqual(first);
    expect(await rowCounts(db)).toEqual(before);
  });

  it("delivers typed errors: UNAUTHORIZED, NOT_FOUND, BAD_REQUEST with field errors", async () => {
    const anonymous = await clientError(
      clientFor(null).projects.create.mutate({
        clientId: newId(),
        mutationId: 1,
        args: { id: newId(), ownerMemberId: newId(), name: "x", at: tick() },
      }),
    );
    expect(anonymous.data).toMatchObject({
      code: "UNAUTHORIZED",
      httpStatus: 401,
      reason: "unauthenticated",
    });

    const hidden = await clientError(
      clientFor(bob.token).issues.update.mutate({
        clientId: bob.clientId,
        mutationId: 2,
        args: { id: newId(), title: "x", at: tick() },
      }),
    );
    expect(hidden.data).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });

    const invalid = await clientError(
      clientFor(bob.token).projects.update.mutate({
        clientId: bob.clientId,
        mutationId: 3,
        args: { id: newId(), name: "", at: tick() },
      }),
    );
    expect(invalid.data).toMatchObject({
      code: "BAD_REQUEST",
      httpStatus: 400,
      reason: "invalid_input",
      retryable: false,
    });
    expect(Object.keys(invalid.data.zodError?.fieldErrors ?? {})).toEqual([
      "name",
    ]);
  });

  it("refuses a request body over the size limit before parsing it, writing nothing", async () => {
    const before = await rowCounts(db);
    const error = await clientError(
      clientFor(alice.token).comments.create.mutate({
        clientId: alice.clientId,
        mutationId: 100,
        args: {
          id: newId(),
          projectId: newId(),
          issueId: newId(),
          body: "x".repeat(MAX_REQUEST_BYTES + 1),
          at: tick(),
        },
      }),
    );
    expect(error.data).toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      httpStatus: 413,
    });
    expect(await rowCounts(db)).toEqual(before);
  });

  it("reads chunked bodies (no Content-Length) through tRPC's stream, with the same limit", async () => {
    /** POSTs `body` in chunks of 64 KiB with Transfer-Encoding: chunked. */
    const postChunked = (path: string, body: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          new URL(path, server.url),
          {
            method: "POST",
            headers: {
              authorization: `Bearer ${alice.token}`,
              "content-type": "application/json",
            },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (text += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on("error", reject);
        for (let i = 0; i < body.length; i += 65_536)
          req.write(body.slice(i, i + 65_536));
        req.end();
      });
    const args = (title: string) => ({
      0: {
        json: {
          clientId: newId(),
          mutationId: 1,
          args: {
            id: newId(),
            ownerMemberId: newId(),
            name: title,
            at: tick().toISOString(),
          },
        },
        meta: { values: { "args.at": ["Date"] } },
      },
    });
    const ok = await postChunked(
      "/projects.create?batch=1",
      JSON.stringify(args("Chunked")),
    );
    expect(ok.status).toBe(200);
    expect(ok.text).toContain("Chunked");
    const before = await rowCounts(db);
    const tooLarge = await postChunked(
      "/projects.create?batch=1",
      JSON.stringify(args("y".repeat(MAX_REQUEST_BYTES))),
    );
    expect(tooLarge.status).toBe(413);
    expect(await rowCounts(db)).toEqual(before);
  });
});

describe("answers outside a successful tRPC call", () => {
  const post = (path: string, body: string, headers: Record<string, string>) =>
    fetch(new URL(path, server.url), { method: "POST", headers, body });
  const json = { "content-type": "application/json" };

  it("never carry a stack trace or a server path, whatever the error", async () => {
    const bearer = { authorization: `Bearer ${alice.token}` };
    const badInput = JSON.stringify({
      0: { json: { clientId: "x", mutationId: 0, args: {} } },
    });
    const answers = await Promise.all([
      post("/projects.update?batch=1", badInput, { ...bearer, ...json }),
      post("/projects.update?batch=1", badInput, json),
      post("/no.such.procedure?batch=1", badInput, { ...bearer, ...json }),
      post("/projects.update", "{not json", { ...bearer, ...json }),
      post("/projects.update", badInput, {
        ...bearer,
        "content-type": "text/plain",
      }),
      // A mutation asked for with GET.
      fetch(new URL("/projects.update", server.url)),
    ]);
    const statuses = answers.map((answer) => answer.status);
    expect(statuses).toEqual([400, 401, 404, 400, 415, 405]);
    for (const answer of answers) {
      const text = await answer.text();
      expect(text).not.toMatch(/"stack"|\.ts:\d|node_modules|file:\/\//);
    }
  });

  it("are the statuses the README's error table lists: 405, 415 and a bare 431", async () => {
    const method = await fetch(new URL("/projects.update", server.url));
    expect(method.status).toBe(405);
    expect(await method.json()).toMatchObject({
      error: {
        json: { data: { code: "METHOD_NOT_SUPPORTED", httpStatus: 405 } },
      },
    });
    const mediaType = await post("/projects.update", "x", {
      authorization: `Bearer ${alice.token}`,
      "content-type": "text/plain",
    });
    expect(mediaType.status).toBe(415);
    expect(await mediaType.json()).toMatchObject({
      error: {
        json: { data: { code: "UNSUPPORTED_MEDIA_TYPE", httpStatus: 415 } },
      },
    });
    // Node's HTTP parser refuses request heads over 16 KiB before the server sees them.
    const longUrl = await fetch(
      new URL(`/system.status?input=${"x".repeat(17 * 1024)}`, server.url),
    );
    expect(longUrl.status).toBe(431);
    expect(await longUrl.text()).toBe("");
  });
});
