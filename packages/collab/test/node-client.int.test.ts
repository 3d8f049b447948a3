/**
 * The Node client of `@repo/collab/testing` (`nodeFetch` under tRPC's `httpLink`,
 * `NodeEventSource` under `sseFollow`) against real `node:http` servers: what it sends, what it
 * parses however the bytes are split, and that every failure rejects or errors as fetch and
 * EventSource do.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createTRPCClient, httpLink } from "@trpc/client";
import { initTRPC, TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import superjson from "superjson";
import { afterEach, describe, expect, test } from "vitest";

import { classifyFailure } from "@repo/sync";

import type { NodeSourceEvent } from "./support/node-event-source";
import { NodeEventSource } from "./support/node-event-source";
import { keepAliveAgent, nodeFetch } from "./support/node-http";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server on a free port, closed after the test; counts the connections it accepted. */
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
) {
  const server = createServer(handler);
  servers.push(server);
  let connections = 0;
  server.on("connection", () => connections++);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
  };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const t = initTRPC.create({ transformer: superjson });
const router = t.router({
  echo: t.procedure
    .input((value) => value as { at: Date })
    .query(({ input }) => ({ at: input.at })),
  add: t.procedure
    .input((value) => value as { text: string })
    .mutation(({ input, ctx }) => ({ text: input.text, ...ctx })),
  refuse: t.procedure.mutation(() => {
    throw new TRPCError({ code: "BAD_REQUEST", message: "no" });
  }),
});
const trpcAt = (url: string) =>
  createTRPCClient<typeof router>({
    links: [
      httpLink({
        url,
        transformer: superjson,
        headers: { authorization: "Bearer token" },
        fetch: nodeFetch,
      }),
    ],
  });

describe("nodeFetch under httpLink", { timeout: 5_000 }, () => {
  test("carries queries and mutations (body, headers), reusing one connection", async () => {
    const trpcHandler = createHTTPHandler({
      router,
      createContext: ({ req }) => ({
        authorization: req.headers.authorization,
      }),
    });
    const api = await serve((req, res) => trpcHandler(req, res));
    const trpc = trpcAt(api.url);
    const at = new Date(1_700_000_000_000);
    expect(await trpc.echo.query({ at })).toEqual({ at });
    // Multi-byte text: the body's length is counted in bytes.
    expect(await trpc.add.mutate({ text: "héllo 🙂" })).toEqual({
      text: "héllo 🙂",
      authorization: "Bearer token",
    });
    expect(await trpc.add.mutate({ text: "again" })).toMatchObject({
      text: "again",
    });
    expect(api.connections()).toBe(1);
  });

  test("the api's refusal reaches classifyFailure as rejected, with its code", async () => {
    const api = await serve(createHTTPHandler({ router }));
    const error = await trpcAt(api.url)
      .refuse.mutate()
      .catch((e: unknown) => e);
    expect(classifyFailure(error)).toMatchObject({
      kind: "rejected",
      code: "BAD_REQUEST",
    });
  });

  test("a refused connection rejects as fetch does: classifyFailure calls it transient (offline)", async () => {
    const url = await closedPort();
    const direct = await nodeFetch(url).catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(TypeError);
    expect((direct as Error).cause).toMatchObject({ code: "ECONNREFUSED" });
    const error = await trpcAt(url)
      .add.mutate({ text: "x" })
      .catch((e: unknown) => e);
    expect(classifyFailure(error)).toEqual({
      kind: "transient",
      offline: true,
      unauthorized: false,
    });
  });

  test("a server hanging up mid-body rejects instead of answering a partial body", async () => {
    const api = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write('{"partial":', () => res.destroy());
    });
    await expect(nodeFetch(api.url)).rejects.toThrow(TypeError);
  });

  test("an abort rejects with an AbortError and ends the request at the server", async () => {
    const received: IncomingMessage[] = [];
    const arrived = deferred();
    const closed = deferred();
    const api = await serve((req) => {
      received.push(req);
      req.on("close", () => closed.resolve());
      arrived.resolve();
    });
    const aborter = new AbortController();
    const call = nodeFetch(api.url, {
      method: "POST",
      body: "{}",
      signal: aborter.signal,
    });
    await arrived.promise;
    aborter.abort();
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
    await closed.promise;

    // Aborted before it started: nothing is sent.
    await expect(
      nodeFetch(api.url, { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: "AbortError" });
    expect(received).toHaveLength(1);
  });

  test("what httpLink never sends is refused, not sent wrong", async () => {
    await expect(
      nodeFetch("http://127.0.0.1:1", { body: new Uint8Array([1]) }),
    ).rejects.toThrow("string bodies only");
    await expect(nodeFetch(new Request("http://127.0.0.1:1"))).rejects.toThrow(
      "not a Request",
    );
  });
});

/** Follows `url` with a NodeEventSource, recording what its listeners get. */
function follow(url: string, types = ["message", "ready", "error"]) {
  const source = new NodeEventSource(url, {
    headers: { authorization: "Bearer token" },
  });
  const events: NodeSourceEvent[] = [];
  for (const type of types)
    source.addEventListener(type, (event) => events.push(event));
  const errored = new Promise<NodeSourceEvent>((resolve) =>
    source.addEventListener("error", resolve),
  );
  return { source, events, errored };
}

/** The client end of the server's connection `req` (same process, found by port). */
function clientSocketOf(req: IncomingMessage): Socket {
  const port = req.socket.remotePort;
  const socket = Object.values(keepAliveAgent.sockets)
    .flat()
    .find((s) => s?.localPort === port);
  if (!socket) throw new Error("no client socket for this request");
  return socket;
}

/**
 * Writes `pieces` one at a time, each once the client has read the previous one, so the client
 * gets exactly these chunks (loopback does not split small writes).
 */
async function writeInPieces(
  req: IncomingMessage,
  res: ServerResponse,
  pieces: Buffer[],
) {
  const client = clientSocketOf(req);
  for (const piece of pieces) {
    const read = once(client, "data");
    res.write(piece);
    await read;
  }
}

const STREAM = [
  "\uFEFFevent: update\r\n", // a byte order mark may lead the stream
  ": a comment\r\n",
  'data: {"text":"é🙂"}\r\n',
  "data: second line\r\n",
  "\r\n",
  "data: lf only\n\n",
  "data:no space\rdata:  two spaces\r\r",
  "id: 7\nevent: ready\ndata: {}\n\n",
].join("");
const EXPECTED = [
  { type: "update", data: '{"text":"é🙂"}\nsecond line' },
  { type: "message", data: "lf only" },
  { type: "message", data: "no space\n two spaces" },
  { type: "ready", data: "{}", lastEventId: "7" },
];

describe("NodeEventSource", { timeout: 5_000 }, () => {
  test.each([
    ["in one chunk", (bytes: Buffer) => [bytes]],
    [
      "a byte per chunk (mid-line, mid-character, between CR and LF)",
      (bytes: Buffer) => [...bytes].map((byte) => Buffer.from([byte])),
    ],
  ])("dispatches each event to its name's listeners, %s", async (_, split) => {
    let headers: IncomingMessage["headers"] = {};
    const done = deferred();
    const api = await serve((req, res) => {
      headers = req.headers;
      // The head goes with the first piece (no flushHeaders), so it is not a read of its own.
      res.writeHead(200, { "content-type": "text/event-stream" });
      writeInPieces(req, res, split(Buffer.from(STREAM))).then(
        done.resolve,
        done.reject,
      );
    });
    const { source, events } = follow(api.url, [
      "update",
      "message",
      "ready",
      "error",
    ]);
    await done.promise;
    expect(events).toMatchObject(EXPECTED);
    expect(headers).toMatchObject({
      authorization: "Bearer token",
      accept: "text/event-stream",
    });
    source.close();
  });

  test("an answer that is not a 200 event stream is an error, with its status", async () => {
    const api = await serve((req, res) => {
      // The status counts, whatever the type.
      if (req.url === "/missing")
        res.writeHead(404, { "content-type": "text/event-stream" }).end();
      else res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    const missing = follow(`${api.url}/missing`);
    expect(await missing.errored).toMatchObject({ type: "error", status: 404 });
    const json = follow(`${api.url}/json`);
    expect(await json.errored).toMatchObject({ type: "error", status: 200 });
    expect([...missing.events, ...json.events]).toHaveLength(2);
  });

  test("the stream ending is an error, and the event it ended inside of is dropped", async () => {
    const api = await serve((req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      if (req.url === "/end") res.end("data: whole\n\ndata: cut short\n");
      else res.write("data: whole\n\ndata: cut", () => res.destroy());
    });
    for (const path of ["/end", "/hang-up"]) {
      const { events, errored } = follow(`${api.url}${path}`);
      await errored;
      expect(events.map(({ type, data }) => ({ type, data }))).toEqual([
        { type: "message", data: "whole" },
        { type: "error", data: undefined },
      ]);
    }
  });

  test("a refused connection is an error", async () => {
    const { errored } = follow(await closedPort());
    expect(await errored).toMatchObject({ type: "error" });
  });

  test("close() ends the request at the server, and no error follows", async () => {
    const closed = deferred();
    const api = await serve((req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: first\n\n");
      req.on("close", () => closed.resolve());
    });
    const { source, events } = follow(api.url);
    const first = deferred();
    source.addEventListener("message", () => first.resolve());
    await first.promise;
    source.close();
    await closed.promise;
    expect(events).toMatchObject([{ type: "message", data: "first" }]);
  });
});
