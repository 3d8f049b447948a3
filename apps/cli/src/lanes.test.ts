import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { takeLanes } from "./lanes";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-lanes-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const lockPath = (lane: number) => join(dir, `outbox-lane-${lane}.json.lock`);

describe("takeLanes", () => {
  it("two holders at once get different lanes; released lanes are free again and leave no file", async () => {
    const first = await takeLanes(2, lockPath);
    const second = await takeLanes(1, lockPath);
    expect([first.lanes, second.lanes]).toEqual([[0, 1], [2]]);
    await first.release();
    expect((await takeLanes(1, lockPath)).lanes).toEqual([0]);
    await second.release();
    expect((await readdir(dir)).sort()).toEqual(["outbox-lane-0.json.lock"]);
  });

  it("a lock of a process that is gone, or holding no PID, is taken over", async () => {
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    await writeFile(lockPath(0), `${gone}\n`);
    await writeFile(lockPath(1), "not a pid\n");
    const lease = await takeLanes(2, lockPath);
    expect(lease.lanes).toEqual([0, 1]);
    await lease.release();
    expect(await readdir(dir)).toEqual([]);
  });
});
