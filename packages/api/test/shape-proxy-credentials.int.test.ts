/**
 * The shape proxy's credentials towards Electric: the server's own, never a client's. Electric
 * Cloud cannot run here, so an HTTP server in its place records what the proxy asks it for.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "vitest";

import type { ElectricOptions } from "../src/shapes/proxy";
import type { TestUser } from "./support";
import { createApiRuntime } from "../src/runtime";
import { apiTest, createUser } from "./support";

/** Every request's query, as Electric (Cloud) would receive it. */
const test = apiTest.extend(
  "upstream",
  { scope: "file" },
  async ({}, { onCleanup }) => {
    const queries: URLSearchParams[] = [];
    const server = createServer((request, response) => {
      queries.push(new URL(request.url ?? "/", "http://electric").searchParams);
      response.writeHead(200, { "content-type": "application/json" });
      response.end("[]");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    onCleanup(
      () => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, queries };
  },
);

let alice: TestUser;
test.beforeAll(async ({ db }) => {
  alice = await createUser(db, "Alice");
});

/** The upstream query of one proxied request made with `electric` and the client's `query`. */
async function upstreamQuery(
  databaseUrl: string,
  upstream: { url: string; queries: URLSearchParams[] },
  options: { electric: Omit<ElectricOptions, "url">; query: string },
): Promise<URLSearchParams> {
  const runtime = createApiRuntime({
    databaseUrl,
    electric: { url: upstream.url, ...options.electric },
  });
  try {
    const seen = upstream.queries.length;
    const response = await runtime.handleShape(
      new Request(`http://web.test/api/shapes/memberships?${options.query}`, {
        headers: { authorization: `Bearer ${alice.token}` },
      }),
      "memberships",
    );
    expect(response.status).toBe(200);
    await response.body?.cancel();
    expect(upstream.queries).toHaveLength(seen + 1);
    return upstream.queries[seen] ?? new URLSearchParams();
  } finally {
    await runtime.close();
  }
}

test("Electric Cloud gets the server's source_id and secret, and none a client put in the URL", async ({
  database,
  upstream,
}) => {
  const query = await upstreamQuery(database.url, upstream, {
    electric: { secret: "source-secret", sourceId: "source-1" },
    query:
      "offset=-1&source_id=another-source&secret=guessed&source_secret=guessed",
  });
  expect(query.getAll("source_id")).toEqual(["source-1"]);
  expect(query.getAll("secret")).toEqual(["source-secret"]);
  expect(query.has("source_secret")).toBe(false);
  expect(query.get("offset")).toBe("-1");
});

test("a self-hosted Electric (no source id) gets no source_id, even one a client sends", async ({
  database,
  upstream,
}) => {
  const query = await upstreamQuery(database.url, upstream, {
    electric: { secret: "electric-secret" },
    query: "offset=-1&source_id=another-source",
  });
  expect(query.has("source_id")).toBe(false);
  expect(query.getAll("secret")).toEqual(["electric-secret"]);
});
