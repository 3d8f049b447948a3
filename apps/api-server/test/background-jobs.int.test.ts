/**
 * The server runs the api's background jobs (the mutation log pruning) in its primary process
 * when it has cluster workers, which serve the requests.
 */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";

import {
  apiTest,
  createUser,
  insertLogRows,
  loggedMutationIds,
} from "@repo/api/testing";
import { waitFor } from "@repo/test-support";

import { startServerProcess } from "./support/server-process";

apiTest(
  "prunes the mutation log in the primary of two cluster workers, which keep serving mutations",
  async ({ database, db }) => {
    const alice = await createUser(db, "Alice");
    const clientId = await insertLogRows(db, alice.id, 4, 4);
    const server = await startServerProcess(database.url, [
      "--workers",
      "2",
      "--log-retention-days",
      "30",
      "--prune-every-minutes",
      "0.002",
    ]);
    try {
      await waitFor(
        async () => (await loggedMutationIds(db, clientId)).length === 1,
      );
      expect(await loggedMutationIds(db, clientId)).toEqual([4]);
      const id = randomUUID();
      const response = await fetch(`${server.url}/projects.create?batch=1`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${alice.token}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({
          0: {
            json: {
              clientId: randomUUID(),
              mutationId: 1,
              args: {
                id,
                ownerMemberId: randomUUID(),
                name: "Served by a worker",
                at: new Date().toISOString(),
              },
            },
            meta: { values: { "args.at": ["Date"] } },
          },
        }),
      });
      expect(response.status).toBe(200);
      expect(await db.project.findUnique({ where: { id } })).toMatchObject({
        name: "Served by a worker",
      });
    } finally {
      await server.stop();
    }
  },
);
