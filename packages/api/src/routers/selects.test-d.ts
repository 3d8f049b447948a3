import { expectTypeOf, it } from "vitest";

import type { Prisma } from "@repo/db";
import type {
  Comment,
  Issue,
  Project,
  ProjectMember,
  User,
} from "@repo/schema";

import type {
  commentSelect,
  issueSelect,
  projectMemberSelect,
  projectSelect,
  userSelect,
} from "./selects";

it("types the selected Prisma rows exactly as the @repo/schema row schemas do", () => {
  expectTypeOf<
    Prisma.ProjectGetPayload<{ select: typeof projectSelect }>
  >().toEqualTypeOf<Project>();
  expectTypeOf<
    Prisma.ProjectMemberGetPayload<{ select: typeof projectMemberSelect }>
  >().toEqualTypeOf<ProjectMember>();
  expectTypeOf<
    Prisma.IssueGetPayload<{ select: typeof issueSelect }>
  >().toEqualTypeOf<Issue>();
  expectTypeOf<
    Prisma.CommentGetPayload<{ select: typeof commentSelect }>
  >().toEqualTypeOf<Comment>();
  expectTypeOf<
    Prisma.UserGetPayload<{ select: typeof userSelect }>
  >().toEqualTypeOf<User>();
});
