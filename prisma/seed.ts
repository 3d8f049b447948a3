/**
 * Demo data for `pnpm dev`: three users who can sign in (`DEMO_PASSWORD`), one project with its
 * members, issues in every status, and a few comments. Idempotent: rows have fixed ids and are
 * inserted with skipDuplicates, so running it again adds nothing and never overwrites what you
 * changed while developing (a changed password included).
 */
import type { Db } from "@repo/db";
import { hashPassword } from "@repo/api";

const id = (n: number) =>
  `00000000-0000-4000-8000-${n.toString().padStart(12, "0")}`;

export const DEMO_USERS = [
  { id: id(1), name: "Alice Adams", email: "alice@example.com" },
  { id: id(2), name: "Bob Brown", email: "bob@example.com" },
  { id: id(3), name: "Carol Chen", email: "carol@example.com" },
] as const;

/** Every demo user's password (printed by `pnpm dev`; for local data only). */
export const DEMO_PASSWORD = "tracker-demo";

const [alice, bob, carol] = DEMO_USERS;
const PROJECT_ID = id(100);

const ISSUES = [
  ["Sign-in with email and password", "done", "high", alice.id],
  ["Live issue board over Electric shapes", "in_progress", "urgent", bob.id],
  ["Offline queue for mutations", "todo", "high", carol.id],
  ["Collaborative issue descriptions (Yjs)", "todo", "medium", alice.id],
  ["Keyboard shortcuts", "backlog", "low", null],
  ["Dark mode", "backlog", "none", null],
  ["CLI: create issues from the terminal", "backlog", "medium", bob.id],
  ["Drop the old REST endpoints", "canceled", "low", null],
] as const;

export interface SeedResult {
  inserted: number;
}

export async function seed(db: Db): Promise<SeedResult> {
  const credentials = await demoCredentials(db);
  return db.$transaction(async (tx) => {
    let inserted = 0;
    inserted += (
      await tx.user.createMany({ data: [...DEMO_USERS], skipDuplicates: true })
    ).count;
    inserted += (
      await tx.account.createMany({ data: credentials, skipDuplicates: true })
    ).count;
    inserted += (
      await tx.project.createMany({
        data: [
          {
            id: PROJECT_ID,
            name: "Launch v1",
            description: "Everything between us and the first release.",
            ownerId: alice.id,
          },
        ],
        skipDuplicates: true,
      })
    ).count;
    inserted += (
      await tx.projectMember.createMany({
        data: [
          {
            id: id(201),
            projectId: PROJECT_ID,
            userId: alice.id,
            role: "owner",
          },
          {
            id: id(202),
            projectId: PROJECT_ID,
            userId: bob.id,
            role: "member",
          },
          {
            id: id(203),
            projectId: PROJECT_ID,
            userId: carol.id,
            role: "viewer",
          },
        ],
        skipDuplicates: true,
      })
    ).count;
    inserted += (
      await tx.issue.createMany({
        data: ISSUES.map(([title, status, priority, assigneeId], index) => ({
          id: id(300 + index),
          projectId: PROJECT_ID,
          title,
          status,
          priority,
          assigneeId,
          creatorId: alice.id,
          // Fractional-index keys ("a0" < "a1" < …), as the board writes them.
          sortKey: `a${index}`,
          completedAt:
            status === "done" ? new Date("2026-11-01T12:00:00Z") : null,
        })),
        skipDuplicates: true,
      })
    ).count;
    inserted += (
      await tx.comment.createMany({
        data: [
          {
            id: id(401),
            projectId: PROJECT_ID,
            issueId: id(301),
            authorId: alice.id,
            body: "Shapes are live on staging.",
          },
          {
            id: id(402),
            projectId: PROJECT_ID,
            issueId: id(301),
            authorId: bob.id,
            body: "Moving cards feels instant.",
          },
          {
            id: id(403),
            projectId: PROJECT_ID,
            issueId: id(302),
            authorId: carol.id,
            body: "Needs ordered replay per client.",
          },
        ],
        skipDuplicates: true,
      })
    ).count;
    return { inserted };
  });
}

/**
 * better-auth's email + password accounts of the demo users that have none yet: provider
 * `credential`, account id = user id, the password hashed as better-auth verifies it (scrypt,
 * about 90 ms each, hence only for missing rows).
 */
async function demoCredentials(db: Db) {
  const present = new Set(
    (
      await db.account.findMany({
        where: { id: { in: DEMO_USERS.map((_, index) => id(501 + index)) } },
        select: { id: true },
      })
    ).map((account) => account.id),
  );
  const missing = DEMO_USERS.map((user, index) => ({
    id: id(501 + index),
    userId: user.id,
  })).filter((account) => !present.has(account.id));
  return Promise.all(
    missing.map(async (account) => ({
      ...account,
      accountId: account.userId,
      providerId: "credential",
      password: await hashPassword(DEMO_PASSWORD),
    })),
  );
}
