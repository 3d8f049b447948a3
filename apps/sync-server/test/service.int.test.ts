/**
 * The runnable service (`pnpm --filter @repo/sync-server dev` runs `node --import tsx src/main.ts`:
 * tsx as a loader, not its CLI, whose parent process SIGKILLs a child that has not reported a
 * relayed signal within 60 ms, which a loaded machine misses: exit 143, no clean stop): reads its
 * env, serves health and shapes, shuts down cleanly on SIGTERM keeping its slot, refuses to
 * start without a secret unless explicitly insecure, `drop-slot` removes the slot, and
 * ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD sets the size of the chunks it answers.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { Shape, ShapeStream } from "@electric-sql/client";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { TestDatabase } from "@repo/test-support";
import { freePort } from "@repo/dev-postgres";
import { createTestDatabase } from "@repo/test-support";

import { ourServerOnly } from "./support/harness";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

let database: TestDatabase;
let slot: string;

beforeAll(async () => {
  database = await createTestDatabase();
  slot = `svc_${database.name}`;
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query(
    "CREATE TABLE kv (k text PRIMARY KEY, v text); INSERT INTO kv VALUES ('a', '1')",
  );
  await client.end();
});

afterAll(async () => {
  await database.drop();
});

function run(
  args: string[],
  env: Record<string, string>,
): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/main.ts", ...args],
    {
      cwd: packageDir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => resolve(code)),
  );
  return { child, output: () => output, exited };
}

async function slotExists(): Promise<boolean> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rowCount } = await client.query(
      "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1",
      [slot],
    );
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

/** Polls the service's health until it answers (its start takes a parser load and a slot). */
async function waitForHealth(
  url: string,
  service: ReturnType<typeof run>,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const ok = await fetch(`${url}/v1/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (attempt > 100)
      throw new Error(`service did not start: ${service.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("runnable service", () => {
  test("refuses to start without a secret unless ELECTRIC_INSECURE is set", async (ctx) => {
    ourServerOnly(ctx, "starts our service process (src/main.ts)");
    const service = run([], {
      DATABASE_URL: database.url,
      ELECTRIC_PORT: "0",
      ELECTRIC_REPLICATION_SLOT: slot,
    });
    expect(await service.exited).toBe(1);
    expect(service.output()).toMatch(/a secret is required/);
  });

  test("serves, shuts down on SIGTERM keeping the slot; drop-slot removes it", async (ctx) => {
    ourServerOnly(ctx, "starts our service process (src/main.ts)");
    const port = await freePort();
    const env = {
      DATABASE_URL: database.url,
      ELECTRIC_PORT: String(port),
      ELECTRIC_SECRET: "dev-secret",
      ELECTRIC_REPLICATION_SLOT: slot,
      ELECTRIC_PUBLICATION: `pub_${slot}`,
    };
    const service = run([], env);
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForHealth(url, service);
      const controller = new AbortController();
      const shape = new Shape(
        new ShapeStream({
          url: `${url}/v1/shape`,
          params: { table: "kv", secret: "dev-secret" },
          signal: controller.signal,
        }),
      );
      expect(await shape.rows).toEqual([{ k: "a", v: "1" }]);
      controller.abort();
      service.child.kill("SIGTERM");
      expect(await service.exited).toBe(0);
      const lines = service
        .output()
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { msg: string });
      expect(lines.map((line) => line.msg)).toContain("sync server stopped");
      expect(await slotExists()).toBe(true);
    } finally {
      if (service.child.exitCode === null) service.child.kill("SIGKILL");
    }
    const dropper = run(["drop-slot"], env);
    expect(await dropper.exited).toBe(0);
    expect(await slotExists()).toBe(false);
  });

  test("ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD cuts a large log into chunks of about that many bytes", async (ctx) => {
    ourServerOnly(ctx, "starts our service process (src/main.ts)");
    const threshold = 8192;
    const port = await freePort();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(
      "CREATE TABLE chunked (id int PRIMARY KEY, v text NOT NULL); ALTER TABLE chunked REPLICA IDENTITY FULL; INSERT INTO chunked SELECT g, repeat('s', 50) FROM generate_series(1, 400) g",
    );
    const service = run([], {
      DATABASE_URL: database.url,
      ELECTRIC_PORT: String(port),
      ELECTRIC_INSECURE: "true",
      ELECTRIC_REPLICATION_SLOT: `${slot}_chunks`,
      ELECTRIC_PUBLICATION: `pub_${slot}_chunks`,
      ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD: String(threshold),
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForHealth(url, service);
      /** Non-live answers from `offset` to up-to-date: each one's bytes of entries. */
      const readChunks = async (from: string, handle?: string) => {
        const sizes: number[] = [];
        let offset = from;
        for (let index = 0; index < 200; index++) {
          const response = await fetch(
            `${url}/v1/shape?table=chunked&offset=${offset}${handle ? `&handle=${handle}` : ""}`,
          );
          const messages = (await response.json()) as {
            headers: { control?: string };
          }[];
          const entries = messages.filter(
            (message) => message.headers.control !== "up-to-date",
          );
          sizes.push(
            entries.reduce(
              (sum, message) => sum + JSON.stringify(message).length + 1,
              0,
            ),
          );
          offset = response.headers.get("electric-offset") ?? "";
          handle = response.headers.get("electric-handle") ?? "";
          if (response.headers.has("electric-up-to-date"))
            return { sizes, offset, handle };
        }
        throw new Error("no up-to-date after 200 answers");
      };
      /** All but the last chunk close with the entry that reaches the threshold. */
      const expectChunked = (sizes: number[]) => {
        expect(sizes.length).toBeGreaterThanOrEqual(3);
        for (const size of sizes.slice(0, -1)) {
          expect(size).toBeGreaterThanOrEqual(threshold);
          expect(size).toBeLessThan(threshold + 400);
        }
      };
      const snapshot = await readChunks("-1");
      // The snapshot's chunks, then the answer past 0_inf with nothing but up-to-date.
      expectChunked(snapshot.sizes.slice(0, -1));
      await client.query(
        "INSERT INTO chunked SELECT g, repeat('l', 50) FROM generate_series(401, 1000) g",
      );
      await expect
        .poll(
          async () =>
            (await readChunks(snapshot.offset, snapshot.handle)).sizes.length,
          { timeout: 10_000 },
        )
        .toBeGreaterThan(1);
      expectChunked((await readChunks(snapshot.offset, snapshot.handle)).sizes);
    } finally {
      service.child.kill("SIGTERM");
      await service.exited;
      await client.query(`SELECT pg_drop_replication_slot('${slot}_chunks')`);
      await client.end();
    }
  });
});
