/**
 * A load-generator process for `bench/run.ts`: official `ShapeStream` clients driven by JSON
 * commands on stdin, one JSON reply per line on stdout. The bench spreads its clients over
 * several of these so that 2,000 streams do not share one event loop with the measuring code.
 *
 * Times are `performance.timeOrigin + performance.now()`: wall-clock milliseconds with sub-ms
 * resolution, comparable between processes on one machine.
 */
import { Agent, request as httpRequest } from "node:http";
import { createInterface } from "node:readline";
import type { Message, Row } from "@electric-sql/client";
import { ShapeStream } from "@electric-sql/client";

export type ClientCommand =
  | {
      cmd: "open";
      url: string;
      table: string;
      /** One entry per client: the `shape_key` its `where` selects. */
      shapeKeys: number[];
      sse: boolean;
      /**
       * Instead of ShapeStream: a minimal long-poll loop over `node:http` (request, JSON.parse,
       * next request) to show what the server alone sustains.
       */
      lean?: boolean;
    }
  | { cmd: "collect" }
  | { cmd: "close" }
  | { cmd: "sync"; url: string; table: string; where: string }
  | { cmd: "exit" };

export type ClientReply =
  | { ok: "open"; cpuMs: number }
  | {
      ok: "collect";
      /** [payload, wall-clock ms when the client's subscriber saw it]. */
      deliveries: [string, number][];
      cpuMs: number;
      /** Long-poll/SSE requests the clients issued since the last collect. */
      requests: number;
    }
  | { ok: "close" }
  | { ok: "sync"; rows: number; ms: number; cpuMs: number }
  | { error: string };

const now = (): number => performance.timeOrigin + performance.now();

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const controllers: AbortController[] = [];
let deliveries: [string, number][] = [];
let requests = 0;

/** Counts requests so the bench can report requests per delivery (long-poll vs SSE). */
const countingFetch: typeof fetch = (input, init) => {
  requests++;
  return fetch(input, init);
};

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

function get(
  url: string,
  signal: AbortSignal,
): Promise<{
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    requests++;
    const req = httpRequest(url, { agent, signal }, (response) => {
      const parts: Buffer[] = [];
      response.on("data", (part: Buffer) => parts.push(part));
      response.on("end", () =>
        resolve({
          headers: response.headers,
          body: Buffer.concat(parts).toString("utf8"),
        }),
      );
      response.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** The lean client: offset=now, then live long-polls, recording inserts like ShapeStream. */
async function leanClient(
  { base, table, shapeKey }: { base: string; table: string; shapeKey: number },
  signal: AbortSignal,
  onReady: () => void,
): Promise<void> {
  const shape = `${base}/v1/shape?table=${encodeURIComponent(table)}&where=${encodeURIComponent(`shape_key = ${shapeKey}`)}&secret=bench`;
  const first = await get(`${shape}&offset=now`, signal);
  let handle = String(first.headers["electric-handle"]);
  let offset = String(first.headers["electric-offset"]);
  let cursor = "";
  onReady();
  while (!signal.aborted) {
    const response = await get(
      `${shape}&handle=${handle}&offset=${offset}&live=true${cursor ? `&cursor=${cursor}` : ""}`,
      signal,
    );
    const at = now();
    const messages = JSON.parse(response.body) as {
      key?: string;
      value?: { payload?: string };
      headers: { operation?: string };
    }[];
    for (const message of messages)
      if (message.key !== undefined && message.headers.operation === "insert")
        deliveries.push([message.value?.payload ?? "", at]);
    handle = String(response.headers["electric-handle"] ?? handle);
    offset = String(response.headers["electric-offset"] ?? offset);
    cursor = String(response.headers["electric-cursor"] ?? "");
  }
}

async function open(
  command: Extract<ClientCommand, { cmd: "open" }>,
): Promise<ClientReply> {
  const ready: Promise<void>[] = [];
  if (command.lean) {
    for (const [index, shapeKey] of command.shapeKeys.entries()) {
      const controller = new AbortController();
      controllers.push(controller);
      ready.push(
        new Promise<void>((resolve) => {
          leanClient(
            { base: command.url, table: command.table, shapeKey },
            controller.signal,
            resolve,
          ).catch(() => {
            // Aborted at close (or the server went away at the end of the bench).
          });
        }),
      );
      if (index % 100 === 99) await sleep(25);
    }
    await Promise.all(ready);
    return { ok: "open", cpuMs: cpuMs() };
  }
  for (const [index, shapeKey] of command.shapeKeys.entries()) {
    const controller = new AbortController();
    const stream = new ShapeStream({
      url: `${command.url}/v1/shape`,
      params: {
        table: command.table,
        where: `shape_key = ${shapeKey}`,
        secret: "bench",
      },
      offset: "now",
      liveSse: command.sse,
      signal: controller.signal,
      fetchClient: countingFetch,
    });
    ready.push(
      new Promise<void>((resolve) => {
        stream.subscribe((messages: Message<Row>[]) => {
          for (const message of messages) {
            if ("key" in message && message.headers.operation === "insert")
              deliveries.push([message.value.payload as string, now()]);
          }
          if (stream.isUpToDate) resolve();
        });
      }),
    );
    controllers.push(controller);
    // Staggered like real clients arriving, so the server's accept queue does not overflow.
    if (index % 100 === 99) await sleep(25);
  }
  await Promise.all(ready);
  return { ok: "open", cpuMs: cpuMs() };
}

async function sync(
  command: Extract<ClientCommand, { cmd: "sync" }>,
): Promise<ClientReply> {
  const controller = new AbortController();
  const cpuBefore = cpuMs();
  const started = performance.now();
  let rows = 0;
  await new Promise<void>((resolve, reject) => {
    const stream = new ShapeStream({
      url: `${command.url}/v1/shape`,
      params: { table: command.table, where: command.where, secret: "bench" },
      signal: controller.signal,
      onError: (error) => {
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    });
    stream.subscribe((messages) => {
      for (const message of messages) if ("key" in message) rows++;
      if (stream.isUpToDate) resolve();
    });
  });
  const ms = performance.now() - started;
  controller.abort();
  return { ok: "sync", rows, ms, cpuMs: cpuMs() - cpuBefore };
}

async function handle(command: ClientCommand): Promise<ClientReply> {
  switch (command.cmd) {
    case "open":
      return open(command);
    case "collect": {
      const reply: ClientReply = {
        ok: "collect",
        deliveries,
        cpuMs: cpuMs(),
        requests,
      };
      deliveries = [];
      requests = 0;
      return reply;
    }
    case "close":
      for (const controller of controllers.splice(0)) controller.abort();
      return { ok: "close" };
    case "sync":
      return sync(command);
    case "exit":
      for (const controller of controllers.splice(0)) controller.abort();
      setImmediate(() => process.exit(0));
      return { ok: "close" };
  }
}

const lines = createInterface({ input: process.stdin });
// Commands are handled one at a time, in order; the bench waits for each reply.
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(async () => {
    let reply: ClientReply;
    try {
      reply = await handle(JSON.parse(line) as ClientCommand);
    } catch (error) {
      reply = { error: error instanceof Error ? error.message : String(error) };
    }
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  });
});
// The bench exiting (or crashing) closes our stdin: don't outlive it.
lines.on("close", () => process.exit(0));
