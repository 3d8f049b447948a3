/**
 * Property test over the input space of the richest mutations: for random sequences of
 * `issues.create` / `issues.update` inputs (every optional field present or not, every status
 * transition, assignee set and cleared), the server writes exactly what the reducer predicts.
 */
import fc from "fast-check";
import { it } from "vitest";

import type { Db } from "@repo/db";
import { IssuePrioritySchema, IssueStatusSchema } from "@repo/schema";

import type { TestUser } from "./support";
import {
  apiTest,
  createUser,
  expectServerMatchesReducer,
  mutate,
  newId,
  tick,
} from "./support";

let db: Db;
let owner: TestUser;
let member: TestUser;
let projectId: string;

apiTest.beforeAll(async ({ db: fileDb }) => {
  db = fileDb;
  owner = await createUser(db, "Owner");
  member = await createUser(db, "Member");
  projectId = newId();
  await mutate(owner, "projects.create", {
    id: projectId,
    ownerMemberId: newId(),
    name: "Property",
    at: tick(),
  });
  await mutate(owner, "members.add", {
    id: newId(),
    projectId,
    userId: member.id,
    role: "member",
    at: tick(),
  });
});

const status = fc.constantFrom(...IssueStatusSchema.options);
const priority = fc.constantFrom(...IssuePrioritySchema.options);
const text = fc.string({ maxLength: 20 }).filter((s) => s.trim().length > 0);
const sortKey = fc.stringMatching(/^[0-9A-Za-z]{1,8}$/);

/** Optional fields as fast-check records with `requiredKeys: []`: each present or absent. */
const createFields = fc.record(
  {
    description: fc.string({ maxLength: 20 }),
    status,
    priority,
    assignee: fc.constantFrom("owner", "member", "none"),
  },
  { requiredKeys: [] },
);
const updateFields = fc.record(
  {
    title: text,
    description: fc.string({ maxLength: 20 }),
    status,
    priority,
    assignee: fc.constantFrom("owner", "member", "none"),
    sortKey,
  },
  { requiredKeys: [] },
);

function withAssignee<T extends { assignee?: "owner" | "member" | "none" }>({
  assignee,
  ...fields
}: T) {
  if (assignee === undefined) return fields;
  return {
    ...fields,
    assigneeId:
      assignee === "none" ? null : assignee === "owner" ? owner.id : member.id,
  };
}

it("issues.create then a random sequence of issues.update: server = reducer", async () => {
  await fc.assert(
    fc.asyncProperty(
      text,
      sortKey,
      createFields,
      fc.array(updateFields, { minLength: 1, maxLength: 4 }),
      async (title, key, create, updates) => {
        const id = newId();
        await expectServerMatchesReducer(db, member, "issues.create", {
          id,
          projectId,
          title,
          sortKey: key,
          at: tick(),
          ...withAssignee(create),
        });
        for (const update of updates)
          await expectServerMatchesReducer(db, member, "issues.update", {
            id,
            at: tick(),
            ...withAssignee(update),
          });
      },
    ),
    { numRuns: 25 },
  );
});
