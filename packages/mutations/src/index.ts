/**
 * @repo/mutations: every write the app makes, defined once: name, zod input, optimistic reducer.
 * Isomorphic (imports @repo/schema and zod only): the browser's optimistic layer, Node clients
 * and the server's tRPC procedures all use these objects.
 */
import { createComment, deleteComment, updateComment } from "./comments";
import { createIssue, deleteIssue, updateIssue } from "./issues";
import { addMember, changeMemberRole, removeMember } from "./members";
import { archiveProject, createProject, updateProject } from "./projects";

export * from "./define";
export { docMutations } from "./docs";
export { presenceMutations } from "./presence";
export {
  applyRowChanges,
  emptyRowTables,
  RowChangeError,
  viewOf,
} from "./row-store";
export type { RowTables } from "./row-store";
// Row builders: what a create writes (defaults included) and what an issue update changes,
// shared by the reducers and the server's handlers so the two cannot drift.
export { newCommentRow } from "./comments";
export { completedAtAfter, issueChanges, newIssueRow } from "./issues";
export { newMemberRow } from "./members";
export { newOwnerMembershipRow, newProjectRow } from "./projects";

/** All mutations, grouped as the tRPC router groups their procedures. */
export const mutations = {
  projects: {
    create: createProject,
    update: updateProject,
    archive: archiveProject,
  },
  members: {
    add: addMember,
    changeRole: changeMemberRole,
    remove: removeMember,
  },
  issues: { create: createIssue, update: updateIssue, delete: deleteIssue },
  comments: {
    create: createComment,
    update: updateComment,
    delete: deleteComment,
  },
} as const;

type Groups = typeof mutations;
/** Every mutation definition, as a union. */
export type AnyAppMutation = {
  [G in keyof Groups]: Groups[G][keyof Groups[G]];
}[keyof Groups];
/** Every mutation name (`issues.create`, …). */
export type MutationName = AnyAppMutation["name"];

/** Mutations by name, for clients that replay a queue of `{ name, input }`. */
export const mutationsByName = Object.fromEntries(
  Object.values(mutations).flatMap((group) =>
    (Object.values(group) as AnyAppMutation[]).map((definition) => [
      definition.name,
      definition,
    ]),
  ),
) as { [M in AnyAppMutation as M["name"]]: M };
