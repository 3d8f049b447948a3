import { apiTest } from "@repo/api/testing";

import { startServerProcess } from "./server-process";

/**
 * `test` of the server's integration tests: the api's fixtures (`database`, `db`) and `server`,
 * this app running in its own process against the file's database, stopped after the file.
 */
export const serverTest = apiTest.extend(
  "server",
  { scope: "file" },
  async ({ database }, { onCleanup }) => {
    const server = await startServerProcess(database.url, ["--quiet"]);
    onCleanup(() => server.stop());
    return server;
  },
);
