/**
 * The write path's promise, end to end: a mutation's returned txid is exactly the txid its
 * changes carry in the shape stream (so a client can drop its optimistic state when it arrives),
 * and the synced row, read the way the app reads it (snakeCamelMapper + SHAPE_PARSER), equals
 * the row the procedure returned (and the reducer predicted; see packages/api tests).
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { ChangeMessage, Row } from "@electric-sql/client";
import {
  isChangeMessage,
  ShapeStream,
  snakeCamelMapper,
} from "@electric-sql/client";
import { afterAll, expect } from "vitest";

import type { ApiRuntime } from "@repo/api";
import type { SyncServer } from "@repo/sync-server";
import type { TestDatabase } from "@repo/test-support";
import { createApiRuntime } from "@repo/api";
import { withClient } from "@repo/dev-postgres";
import { IssueSchema, SHAPE_PARSER } from "@repo/schema";
import { createLogger, startSyncServer } from "@repo/sync-server";
import { dbTest } from "@repo/test-support";

const SECRET = randomBytes(16).toString("hex");
let server: SyncServer | undefined;
let runtime: ApiRuntime | undefined;

afterAll(async () => {
  await server?.stopAndDropSlot();
  await runtime?.close();
});

/** A caller of the app's api runtime, signed in as a new user. */
async function signedInCaller(database: TestDatabase, runtime: ApiRuntime) {
  const userId = randomUUID();
  const token = randomBytes(16).toString("hex");
  await withClient(database.url, async (client) => {
    await client.query(
      "INSERT INTO users (id, name, email) VALUES ($1, 'Writer', $2)",
      [userId, `${userId}@example.com`],
    );
    await client.query(
      "INSERT INTO sessions (token, user_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')",
      [token, userId],
    );
  });
  return runtime.caller(new Headers({ authorization: `Bearer ${token}` }));
}

dbTest(
  "every mutation's txid arrives on its changes in the shape stream",
  async ({ database }) => {
    runtime = createApiRuntime({ databaseUrl: database.url });
    server = await startSyncServer({
      databaseUrl: database.url,
      port: 0,
      secret: SECRET,
      slotName: `slot_${database.name}`,
      publicationName: `pub_${database.name}`,
      logger: createLogger("silent"),
    });
    const api = await signedInCaller(database, runtime);
    const envelope = (() => {
      const clientId = randomUUID();
      let mutationId = 0;
      return () => ({ clientId, mutationId: ++mutationId });
    })();

    const projectId = randomUUID();
    await api.projects.create({
      ...envelope(),
      args: {
        id: projectId,
        ownerMemberId: randomUUID(),
        name: "Synced",
        at: new Date(),
      },
    });

    const changes: ChangeMessage<Row<Date>>[] = [];
    const stream = new ShapeStream<Row<Date>>({
      url: `${server.url}/v1/shape`,
      params: {
        table: "issues",
        where: "project_id = $1",
        params: [projectId],
        secret: SECRET,
      },
      columnMapper: snakeCamelMapper(),
      parser: SHAPE_PARSER,
    });
    const unsubscribe = stream.subscribe((messages) => {
      changes.push(...messages.filter(isChangeMessage));
    });
    const changeWith = async (txid: number) => {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
        const found = changes.find((m) => m.headers.txids?.includes(txid));
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(
        `txid ${txid} never arrived; saw ${JSON.stringify(changes.map((m) => m.headers.txids))}`,
      );
    };

    try {
      // Live first: a row that is already there when the shape starts arrives in the snapshot,
      // which carries no txids.
      while (!stream.isUpToDate)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const issueId = randomUUID();
      const created = await api.issues.create({
        ...envelope(),
        args: {
          id: issueId,
          projectId,
          title: "Arrives with its txid",
          sortKey: "a0",
          at: new Date(),
        },
      });
      const insert = await changeWith(created.txid);
      expect(insert.headers.operation).toBe("insert");
      expect(IssueSchema.parse(insert.value)).toEqual(created.data);

      const updated = await api.issues.update({
        ...envelope(),
        args: { id: issueId, status: "done", at: new Date() },
      });
      expect(updated.txid).not.toBe(created.txid);
      const update = await changeWith(updated.txid);
      expect(update.headers.operation).toBe("update");
      expect(update.value).toMatchObject({ id: issueId, status: "done" });

      const deleted = await api.issues.delete({
        ...envelope(),
        args: { id: issueId },
      });
      const removal = await changeWith(deleted.txid);
      expect(removal.headers.operation).toBe("delete");
      expect(removal.value.id).toBe(issueId);
    } finally {
      unsubscribe();
    }
  },
);
