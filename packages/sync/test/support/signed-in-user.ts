import { randomBytes, randomUUID } from "node:crypto";

import { withClient } from "@repo/dev-postgres";

/** A user with a session of an hour (what sign-in would create), for the api's bearer auth. */
export async function createSignedInUser(
  databaseUrl: string,
  name: string,
): Promise<{ userId: string; token: string }> {
  const userId = randomUUID();
  const token = randomBytes(16).toString("hex");
  await withClient(databaseUrl, async (client) => {
    await client.query(
      "INSERT INTO users (id, name, email) VALUES ($1, $2, $3)",
      [userId, name, `${userId}@example.com`],
    );
    await client.query(
      "INSERT INTO sessions (token, user_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')",
      [token, userId],
    );
  });
  return { userId, token };
}
