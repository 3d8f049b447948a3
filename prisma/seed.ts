/**
 * Demo data for `pnpm dev`: three users, one project with its members, issues in every status,
 * and a few comments. Idempotent: rows have fixed ids and are inserted with skipDuplicates, so
 * running it again adds nothing and never overwrites what you changed while developing.
 */
import type { Db } from "@repo/db";

const id = (n: number) =>
  `00000000-0000-4000-8000-${n.toString().padStart(12, "0")}`;

export const DEMO_USERS = [
  { id: id(1), name: "Alice Adams", email: "alice@example.com" },
  { id: id(2), name: "Bob Brown", email: "bob@example.com" },
  { id: id(3), name: "Carol Chen", email: "carol@example.com" },
] as const;

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
  return db.$transaction(async (tx) => {
    let inserted = 0;
    inserted += (
      await tx.user.createMany({ data: [...DEMO_USERS], skipDuplicates: true })
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
