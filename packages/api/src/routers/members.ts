import { z } from "zod";

import type { Db, TxQuery } from "@repo/db";
import type { ProjectRole } from "@repo/schema";
import { mutations, newMemberRow } from "@repo/mutations";
import { MANAGER_ROLES } from "@repo/schema";

import { invalidState, notFound, toTRPCError } from "../errors";
import { requireRole, roleIn } from "../mutation/authorize";
import { mutationProcedure } from "../mutation/procedure";
import { authedProcedure, createTRPCRouter } from "../trpc";
import { projectMemberSelect } from "./selects";

/** A membership row, locked for update, or NOT_FOUND. */
async function lockMembership(sql: TxQuery, id: string) {
  const [row] = await sql<{
    project_id: string;
    user_id: string;
    role: ProjectRole;
  }>(
    `SELECT project_id::text AS project_id, user_id::text AS user_id, role::text AS role
       FROM project_members WHERE id = $1::uuid FOR UPDATE`,
    [id],
    "api_lock_membership",
  );
  if (!row) throw notFound("Membership not found");
  return row;
}

export const membersRouter = createTRPCRouter({
  /** Owners and admins add users as admin, member or viewer. */
  add: mutationProcedure(
    mutations.members.add,
    async ({ tx, sql, args, user }) => {
      const role = await roleIn(sql, args.projectId, user.id);
      requireRole(role, MANAGER_ROLES, "add members");
      // An unknown user fails the foreign key (CONFLICT parent_missing); a user who is already a
      // member fails the (project, user) unique key (CONFLICT duplicate).
      return tx.projectMember.create({
        data: newMemberRow(args),
        select: projectMemberSelect,
      });
    },
  ),

  changeRole: mutationProcedure(
    mutations.members.changeRole,
    async ({ tx, sql, args, user }) => {
      const target = await lockMembership(sql, args.id);
      const role = await roleIn(sql, target.project_id, user.id);
      requireRole(role, MANAGER_ROLES, "change roles");
      if (target.role === "owner")
        throw invalidState("The owner's role cannot change");
      return tx.projectMember.update({
        where: { id: args.id },
        data: { role: args.role, updatedAt: args.at },
        select: projectMemberSelect,
      });
    },
  ),

  /** Owners and admins remove members; any member but the owner may leave. */
  remove: mutationProcedure(
    mutations.members.remove,
    async ({ tx, sql, args, user }) => {
      const target = await lockMembership(sql, args.id);
      const role = await roleIn(sql, target.project_id, user.id);
      if (target.user_id !== user.id)
        requireRole(role, MANAGER_ROLES, "remove other members");
      if (target.role === "owner")
        throw invalidState("The owner cannot leave or be removed");
      return tx.projectMember.delete({
        where: { id: args.id },
        select: { id: true },
      });
    },
  ),

  /**
   * The account behind an email, for a manager inviting it (`members.add` takes a user id):
   * `{ id, name }` or NOT_FOUND. Only managers of the project may ask, so nobody else can probe
   * which emails have accounts.
   */
  findByEmail: authedProcedure
    .input(z.strictObject({ projectId: z.guid(), email: z.email() }))
    .query(({ ctx, input }) =>
      // The app's errors become their tRPC codes (FORBIDDEN, NOT_FOUND), as in mutations.
      findAccount(ctx.db, ctx.user.id, input).catch((error: unknown) => {
        throw toTRPCError(error);
      }),
    ),
});

async function findAccount(
  db: Db,
  userId: string,
  input: { projectId: string; email: string },
): Promise<{ id: string; name: string }> {
  const [membership] = await db.$queryRaw<{ role: ProjectRole }[]>`
    SELECT role::text AS role FROM project_members
     WHERE project_id = ${input.projectId}::uuid AND user_id = ${userId}::uuid`;
  if (!membership) throw notFound("Project not found");
  requireRole(membership.role, MANAGER_ROLES, "invite members");
  const [account] = await db.$queryRaw<{ id: string; name: string }[]>`
    SELECT id::text AS id, name FROM users WHERE lower(email) = lower(${input.email})`;
  if (!account)
    throw notFound(
      `Nobody has an account with ${input.email}: ask them to sign up first`,
    );
  return account;
}
