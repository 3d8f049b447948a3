import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";

import { fileOutbox } from "@repo/sync/node";

import type { Session } from "../config";
import { outboxPath } from "../config";
import { connect } from "../connection";
import { CliError, EXIT } from "../errors";
import { importIssues } from "./import";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-import-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

// Nothing listens there: the import must stop before any write would be sent.
const session: Session = {
  url: "http://127.0.0.1:9",
  token: "token",
  user: {
    id: "6f1d2c3b-4a59-4e7f-8a1b-2c3d4e5f6a7b",
    name: "A",
    email: "a@b.c",
  },
};

it("an import interrupted before it starts queues nothing: every row is left to the next run", async () => {
  const file = join(dir, "issues.csv");
  await writeFile(
    file,
    ["key,title", ...Array.from({ length: 100 }, (_, i) => `K-${i},Row ${i}`)]
      .join("\n")
      .concat("\n"),
  );
  const lanes = [0, 1].map((lane) =>
    connect(session, { configDir: dir, onError: () => undefined, lane }),
  );
  const signal = AbortSignal.abort();
  try {
    const error = await importIssues({
      file,
      projectId: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
      existingIds: new Set(),
      connections: lanes,
      signal,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT.interrupted);
  } finally {
    await Promise.all(lanes.map((lane) => lane.sync.ready));
    for (const lane of lanes) lane.close();
  }
  for (const lane of [0, 1])
    expect(
      (await fileOutbox(outboxPath(dir, session, lane)).load()).entries,
    ).toEqual([]);
});
