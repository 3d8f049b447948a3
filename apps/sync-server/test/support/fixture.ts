/**
 * `test` of the sync-server conformance tests, with file-scoped fixtures:
 *
 * - `h`: the file's harness (its own database and server, or the external Electric in parity
 *   mode), closed after the file; `test.override("serverOptions", { … })` configures our server;
 * - `table(ddl)`: creates a table the way the app's migrations do (`REPLICA IDENTITY FULL`) and
 *   returns its `table` parameter.
 *
 * @example
 * test.beforeAll(async ({ table }) => { items = await table("items (id int PRIMARY KEY)"); });
 * test("…", async ({ h }) => { … h.shapeUrl … });
 */
import { test as baseTest } from "vitest";

import type { SyncServerOptions } from "../../src/server";
import { startHarness } from "./harness";

export const syncTest = baseTest
  .extend(
    "serverOptions",
    { scope: "file" },
    (): Partial<SyncServerOptions> => ({}),
  )
  .extend("h", { scope: "file" }, async ({ serverOptions }, { onCleanup }) => {
    const harness = await startHarness(serverOptions);
    onCleanup(() => harness.close());
    return harness;
  })
  .extend(
    "table",
    { scope: "file" },
    ({ h }) =>
      (ddl: string) =>
        h.createTable(ddl),
  );
