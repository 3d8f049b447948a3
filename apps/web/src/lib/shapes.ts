/**
 * The app's shapes, by name, as the authorising proxy serves them (`/api/shapes/<name>`; the
 * checks and definitions are in @repo/api's src/shapes/catalog.ts). Each helper gives the client
 * runtime a `ShapeDefinition` (table + url, and `matches` so pending writes show in the right
 * list); `shapePath` gives the bare URL for a `ShapeStream`, `@electric-sql/react`'s `useShape`
 * or the Yjs provider. The browser never says which table, where or columns: the server does.
 *
 * @example
 * useShape(shapes.issues(projectId));                       // @repo/sync/react
 * useShape({ url: absoluteShapeUrl(shapePath("presence", { field, row })) }); // @electric-sql/react
 */
import type { ShapeArgs, ShapeName } from "@repo/api";
import type { Comment, Issue, ProjectMember } from "@repo/schema";
import type { ShapeDefinition } from "@repo/sync";

/** Where the proxy answers; the client runtime's `shapeUrl` (named shapes resolve against it). */
export const SHAPES_PATH = "/api/shapes";

/** `/api/shapes/<name>?<args>`, e.g. `shapePath("issues", { project })`. */
export function shapePath<TName extends ShapeName>(
  name: TName,
  args: ShapeArgs[TName],
): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(args as Record<string, unknown>))
    if (typeof value === "string") query.set(key, value);
  const search = query.toString();
  return `${SHAPES_PATH}/${name}${search ? `?${search}` : ""}`;
}

/** A shape path as an absolute URL of this page's origin (what `ShapeStream` needs). */
export function absoluteShapeUrl(path: string): string {
  return new URL(path, window.location.origin).href;
}

export const shapes = {
  /** My memberships: every project I belong to, with my role. */
  memberships: (userId: string): ShapeDefinition<"project_members"> => ({
    table: "project_members",
    url: shapePath("memberships", {}),
    matches: (row: ProjectMember) => row.userId === userId,
  }),
  /**
   * The projects I am a member of. Its definition follows my memberships: after joining or
   * creating a project, its rows arrive once the proxy's next request for this shape (at most
   * a long-poll later) answers 409 and the client re-syncs.
   */
  projects: (): ShapeDefinition<"projects"> => ({
    table: "projects",
    url: shapePath("projects", {}),
  }),
  projectMembers: (projectId: string): ShapeDefinition<"project_members"> => ({
    table: "project_members",
    url: shapePath("project-members", { project: projectId }),
    matches: (row: ProjectMember) => row.projectId === projectId,
  }),
  /** A project's members as public profiles (id, name, image; never email). */
  users: (projectId: string): ShapeDefinition<"users"> => ({
    table: "users",
    url: shapePath("users", { project: projectId }),
  }),
  /** A project's issues, without their description (see `issue`). */
  issues: (projectId: string): ShapeDefinition<"issues"> => ({
    table: "issues",
    url: shapePath("issues", { project: projectId }),
    matches: (row: Issue) => row.projectId === projectId,
  }),
  /** One issue, with its description. */
  issue: (issueId: string): ShapeDefinition<"issues"> => ({
    table: "issues",
    url: shapePath("issue", { id: issueId }),
    matches: (row: Issue) => row.id === issueId,
  }),
  issueComments: (issueId: string): ShapeDefinition<"comments"> => ({
    table: "comments",
    url: shapePath("comments", { issue: issueId }),
    matches: (row: Comment) => row.issueId === issueId,
  }),
  projectComments: (projectId: string): ShapeDefinition<"comments"> => ({
    table: "comments",
    url: shapePath("comments", { project: projectId }),
    matches: (row: Comment) => row.projectId === projectId,
  }),
};
