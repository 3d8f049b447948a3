import { afterAll, expect } from "vitest";

import { createDb } from "@repo/db";
import { dbTest } from "@repo/test-support";

import { DEMO_USERS, seed } from "../prisma/seed";

let db: ReturnType<typeof createDb> | undefined;
afterAll(() => db?.$disconnect());

dbTest("seeds the demo data once, and never twice", async ({ database }) => {
  db = createDb(database.url);

  const first = await seed(db);
  const counts = async () => ({
    users: await db?.user.count(),
    // One email + password account per demo user: each can sign in.
    accounts: await db?.account.count({ where: { providerId: "credential" } }),
    projects: await db?.project.count(),
    members: await db?.projectMember.count(),
    issues: await db?.issue.count(),
    comments: await db?.comment.count(),
  });
  const afterFirst = await counts();
  const second = await seed(db);

  expect(first.inserted).toBeGreaterThan(0);
  expect(afterFirst.users).toBe(DEMO_USERS.length);
  expect(afterFirst.accounts).toBe(DEMO_USERS.length);
  expect(afterFirst.issues).toBeGreaterThan(0);
  expect(second.inserted).toBe(0);
  expect(await counts()).toEqual(afterFirst);
});

dbTest("keeps what a developer changed", async ({ database }) => {
  db ??= createDb(database.url);
  const [alice] = DEMO_USERS;
  await db.user.update({
    where: { id: alice.id },
    data: { name: "Alice (renamed)" },
  });

  await seed(db);

  expect(
    (await db.user.findUniqueOrThrow({ where: { id: alice.id } })).name,
  ).toBe("Alice (renamed)");
});
