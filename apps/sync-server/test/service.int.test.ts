/**
 * The runnable service (`pnpm --filter @repo/sync-server dev` runs `tsx src/main.ts`): reads its
 * env, serves health and shapes, shuts down cleanly on SIGTERM keeping its slot, refuses to
 * start without a secret unless explicitly insecure, and `drop-slot` removes the slot.
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
const tsxCli = fileURLToPath(
  new URL("../node_modules/tsx/dist/cli.mjs", import.meta.url),
);

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
  const child = spawn(process.execPath, [tsxCli, "src/main.ts", ...args], {
    cwd: packageDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
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
      for (let attempt = 0; ; attempt++) {
        const ok = await fetch(`${url}/v1/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
        if (attempt > 100)
          throw new Error(`service did not start: ${service.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
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
});
