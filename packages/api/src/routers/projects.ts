import {
  mutations,
  newOwnerMembershipRow,
  newProjectRow,
} from "@repo/mutations";
import { MANAGER_ROLES } from "@repo/schema";

import { requireRole, roleIn } from "../mutation/authorize";
import { mutationProcedure } from "../mutation/procedure";
import { createTRPCRouter } from "../trpc";
import { projectMemberSelect, projectSelect } from "./selects";

export const projectsRouter = createTRPCRouter({
  /** Any signed-in user may create a project; they become its owner. */
  create: mutationProcedure(
    mutations.projects.create,
    async ({ tx, args, user }) => {
      const actor = { userId: user.id };
      const project = await tx.project.create({
        data: newProjectRow(args, actor),
        select: projectSelect,
      });
      const membership = await tx.projectMember.create({
        data: newOwnerMembershipRow(args, actor),
        select: projectMemberSelect,
      });
      return { project, membership };
    },
  ),

  update: mutationProcedure(
    mutations.projects.update,
    async ({ tx, sql, args, user }) => {
      const role = await roleIn(sql, args.id, user.id);
      requireRole(role, MANAGER_ROLES, "edit the project");
      return tx.project.update({
        where: { id: args.id },
        data: {
          name: args.name,
          description: args.description,
          updatedAt: args.at,
        },
        select: projectSelect,
      });
    },
  ),

  archive: mutationProcedure(
    mutations.projects.archive,
    async ({ tx, sql, args, user }) => {
      const role = await roleIn(sql, args.id, user.id);
      requireRole(role, MANAGER_ROLES, "archive the project");
      return tx.project.update({
        where: { id: args.id },
        data: {
          archivedAt: args.archived ? args.at : null,
          updatedAt: args.at,
        },
        select: projectSelect,
      });
    },
  ),
});
