"use client";

/**
 * The app's live reads: one hook per shape the proxy serves (`~/lib/shapes`), each a
 * `useShape` of the client runtime (synced rows ⊕ pending writes).
 */
import { useMemo, useRef } from "react";

import type {
  Comment,
  Issue,
  Project,
  ProjectMember,
  TableName,
  User,
} from "@repo/schema";
import type { InitialShape, ShapeDefinition } from "@repo/sync";
import type { UseShapeOptions } from "@repo/sync/react";
import { useShape } from "@repo/sync/react";

import { useViewer } from "~/components/app/sync-root";

import { shapes } from "./shapes";

function withInitial<TTable extends TableName>(
  definition: ShapeDefinition<TTable>,
  initial: InitialShape<TTable> | undefined,
): ShapeDefinition<TTable> {
  return initial ? { ...definition, initial } : definition;
}

/** My memberships: which projects I am in, and my role in each. */
function useMemberships(initial?: InitialShape<"project_members">) {
  const viewer = useViewer();
  return useShape(withInitial(shapes.memberships(viewer.id), initial));
}

/**
 * The projects I am a member of. The proxy decides the set from my memberships when the shape
 * is requested; keying the definition to them makes the client ask again as soon as I join
 * or leave a project (the memberships shape says so live), instead of a long-poll later.
 *
 * Pending memberships are part of the key, apart from synced ones: creating a project opens
 * a shape that shows it optimistically (`matches`), and its commit changes the key again, so
 * the write is not left waiting for its txid on a shape whose set was fixed before it.
 */
export function useProjects(
  initial: {
    projects?: InitialShape<"projects">;
    memberships?: InitialShape<"project_members">;
  } = {},
  options?: UseShapeOptions<"projects">,
) {
  const memberships = useMemberships(initial.memberships);
  const projectIds = useMemo(
    () =>
      memberships.rows
        .map((row) =>
          memberships.isPending(row.id)
            ? `pending:${row.projectId}`
            : row.projectId,
        )
        .sort(),
    [memberships],
  );
  const definition = {
    ...keyedTo(shapes.projects(), projectIds),
    // Pending projects (mine, being created) show before the server has them.
    matches: () => true,
  };
  const initialMatches =
    initial.projects &&
    sameIds(
      initial.projects.rows.map((row) => row.id),
      projectIds,
    );
  const shape = useShape(
    withInitial(definition, initialMatches ? initial.projects : undefined),
    options,
  );
  // While the new set loads, keep showing the last complete one (no empty flash).
  const shown = useRef(shape);
  if (shape.isUpToDate || !shown.current.isUpToDate || initialMatches)
    shown.current = shape;
  return { ...shown.current, memberships };
}

/**
 * A shape whose rows the proxy picks from ids it reads itself (`projects`, `users`), keyed to
 * those ids as the client knows them: a change opens a new stream. The ids' hash also goes
 * into the URL (the proxy ignores what is not an argument of the shape), so the browser never
 * answers the new stream's first request from its cache of the old one.
 */
function keyedTo<TTable extends TableName>(
  definition: ShapeDefinition<TTable>,
  ids: readonly string[],
): ShapeDefinition<TTable> {
  let hash = 0x811c9dc5;
  for (const char of ids.join(","))
    hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  const url = definition.url ?? "";
  return {
    ...definition,
    params: [...ids],
    url: `${url}${url.includes("?") ? "&" : "?"}v=${hash.toString(36)}`,
  };
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === b.length && b.every((id) => set.has(id));
}

export function useMembers(
  projectId: string,
  initial?: InitialShape<"project_members">,
) {
  return useShape(withInitial(shapes.projectMembers(projectId), initial));
}

/**
 * The profiles of a project's members. The proxy fixes the set when the shape is requested;
 * a page that follows the members (`memberIds`, synced ones) asks again when they change,
 * other pages learn of a new member at the proxy's next answer (409, a long-poll later).
 */
export function useUsers(
  projectId: string,
  initial: { users?: InitialShape<"users"> } = {},
  memberIds?: readonly string[],
) {
  const initialMatches =
    initial.users &&
    (memberIds === undefined ||
      sameIds(
        initial.users.rows.map((row) => row.id),
        memberIds,
      ));
  return useShape(
    withInitial(
      memberIds
        ? keyedTo(shapes.users(projectId), memberIds)
        : shapes.users(projectId),
      initialMatches ? initial.users : undefined,
    ),
  );
}

export function useIssues(
  projectId: string,
  initial?: InitialShape<"issues">,
  options?: UseShapeOptions<"issues">,
) {
  return useShape(withInitial(shapes.issues(projectId), initial), options);
}

/** One issue with its description (the list's shape leaves descriptions out). */
export function useIssue(issueId: string, initial?: InitialShape<"issues">) {
  const { rows, ...rest } = useShape(
    withInitial(shapes.issue(issueId), initial),
  );
  return { issue: rows[0], ...rest };
}

export function useComments(
  issueId: string,
  initial?: InitialShape<"comments">,
) {
  return useShape(withInitial(shapes.issueComments(issueId), initial), {
    sort: byCreatedAt,
  });
}

const byCreatedAt = (a: Comment, b: Comment) =>
  a.createdAt.getTime() - b.createdAt.getTime();

export type { Comment, Issue, Project, ProjectMember, User };
