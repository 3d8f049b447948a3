import { randomUUID } from "node:crypto";

import type { Db } from "@repo/db";

/** Log rows 1..count of a new client of `userId`, the first `old` of them 40 days old. */
export async function insertLogRows(
  db: Db,
  userId: string,
  count: number,
  old: number,
): Promise<string> {
  const clientId = randomUUID();
  for (let id = 1; id <= count; id++)
    await db.$executeRaw`
      INSERT INTO mutation_log (client_id, mutation_id, user_id, name, txid, outcome, result, created_at)
      VALUES (${clientId}::uuid, ${id}, ${userId}::uuid, 'issues.create', 1, 'ok', '{}'::jsonb,
              now() - ${id <= old ? "40 days" : "0 days"}::interval)`;
  return clientId;
}

/** The mutation ids the log holds for a client, in order. */
export async function loggedMutationIds(
  db: Db,
  clientId: string,
): Promise<number[]> {
  const rows = await db.$queryRaw<{ mutation_id: number }[]>`
    SELECT mutation_id FROM mutation_log WHERE client_id = ${clientId}::uuid
     ORDER BY mutation_id`;
  return rows.map((row) => row.mutation_id);
}
