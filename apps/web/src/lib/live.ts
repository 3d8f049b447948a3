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
 * The projects I am a member of, read once per set of memberships: the proxy decides the set
 * from my memberships when the shape is requested, so the definition is keyed to them (live)
 * and read again as soon as I join or leave a project, holding no connection in between.
 *
 * Pending memberships are part of the key, apart from synced ones: creating a project opens
 * a shape that shows it optimistically (`matches`), and its commit changes the key again, so
 * the project is read from the server once it is there.
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
    ...readOnceKeyedTo(shapes.projects(), projectIds),
    // Pending projects (mine, being created) show before the server has them.
    matches: () => true,
  };
  const initialMatches =
    initial.projects &&
    sameIds(
      initial.projects.rows.map((row) => row.id),
      projectIds,
    );
  const shape = useKeepLastComplete(
    useShape(
      withInitial(definition, initialMatches ? initial.projects : undefined),
      options,
    ),
    initialMatches === true,
  );
  return { ...shape, memberships };
}

/** While a re-keyed shape loads, the last complete one stays shown (no empty flash). */
function useKeepLastComplete<TShape extends { isUpToDate: boolean }>(
  shape: TShape,
  fromServer: boolean,
): TShape {
  const shown = useRef(shape);
  if (shape.isUpToDate || !shown.current.isUpToDate || fromServer)
    shown.current = shape;
  return shown.current;
}

/**
 * One project's row, for its pages: read once, and again when my membership of it comes or
 * goes (`isMember`, from the project's live members). The projects shape holds every project
 * of mine; a project page needs no live copy of it (projects are not renamed in the app).
 */
export function useProjectRow(
  projectId: string,
  isMember: boolean,
  initial?: InitialShape<"projects">,
) {
  const key = isMember ? [projectId] : [];
  const initialMatches =
    initial?.rows.some((row) => row.id === projectId) === isMember;
  const { rows, ...rest } = useKeepLastComplete(
    useShape(
      withInitial(
        readOnceKeyedTo(shapes.projects(), key),
        initialMatches ? initial : undefined,
      ),
    ),
    initialMatches,
  );
  return { project: rows.find((row) => row.id === projectId), ...rest };
}

/**
 * A shape whose rows the proxy picks from ids it reads itself (`projects`, `users`), read once
 * per set of those ids as the client knows them from a live shape: a change opens a new
 * stream, and none stays open meanwhile. The ids' hash also goes into the URL (the proxy
 * ignores what is not an argument of the shape), so the browser never answers the new
 * stream's first request from its cache of the old one.
 */
function readOnceKeyedTo<TTable extends TableName>(
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
    live: false,
  };
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === b.length && b.every((id) => set.has(id));
}

/** A project's memberships (every member, with their role), live. */
export function useMembers(
  projectId: string,
  initial?: InitialShape<"project_members">,
) {
  return useShape(withInitial(shapes.projectMembers(projectId), initial));
}

/**
 * The profiles of a project's members, read once per member set (`memberIds`, the synced
 * members from `useMembers`): a new member's profile is read when they join.
 */
export function useUsers(
  projectId: string,
  memberIds: readonly string[],
  initial?: InitialShape<"users">,
) {
  const initialMatches =
    initial !== undefined &&
    sameIds(
      initial.rows.map((row) => row.id),
      memberIds,
    );
  return useKeepLastComplete(
    useShape(
      withInitial(
        readOnceKeyedTo(shapes.users(projectId), memberIds),
        initialMatches ? initial : undefined,
      ),
    ),
    initialMatches,
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
