import "server-only";

import type { ProjectInitial } from "~/lib/project-context";
import { headers } from "next/headers";
import { notFound } from "next/navigation";

import type { TableName } from "@repo/schema";
import type { InitialShape, ShapeDefinition } from "@repo/sync";
import { loadShape } from "@repo/sync";

import { apiRuntime } from "~/server/runtime";

import { shapes } from "./shapes";

/** Thrown when the proxy refuses a shape: the page is not the user's to see. */
class ShapeRefusedError extends Error {
  override name = "ShapeRefusedError";
}

/**
 * A named shape's rows for a server render, read through the app's own shape proxy in-process
 * (the same authorisation as the browser's requests, without an HTTP call to itself). The
 * browser resumes the stream from the handle and offset returned.
 */
async function loadInitial<TTable extends TableName>(
  definition: ShapeDefinition<TTable>,
): Promise<InitialShape<TTable>> {
  const { url } = definition;
  if (url === undefined)
    throw new Error("loadInitial: a named shape is needed");
  const name = new URL(url, "http://app").pathname.split("/").at(-1) ?? "";
  const cookie = (await headers()).get("cookie") ?? "";
  // An object: TypeScript would take a `let` set in the callback for always false.
  const answer = { refused: false };
  const fetchClient: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const withSession = new Headers(request.headers);
    withSession.set("cookie", cookie);
    const response = await apiRuntime().handleShape(
      new Request(request.url, {
        headers: withSession,
        signal: request.signal,
      }),
      name,
    );
    if (
      response.status === 401 ||
      response.status === 403 ||
      response.status === 404
    )
      answer.refused = true;
    return response;
  };
  try {
    return await loadShape({
      // Only the origin matters: the definition's path names the shape.
      url: "http://app/api/shapes",
      shape: definition,
      fetchClient,
      // A sync service that does not answer fails the render rather than hanging it.
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    if (answer.refused)
      throw new ShapeRefusedError(`shape ${name} refused`, { cause: error });
    throw error;
  }
}

/** The viewer's projects and memberships (the project list, and every project page). */
export async function loadProjectsInitial(userId: string) {
  const [memberships, projects] = await Promise.all([
    loadInitial(shapes.memberships(userId)),
    loadInitial(shapes.projects()),
  ]);
  return { memberships, projects };
}

/**
 * What every page of one project renders from; a project the viewer may not read is a 404,
 * the same answer as one that does not exist.
 */
export async function loadProjectInitial(
  projectId: string,
): Promise<ProjectInitial> {
  try {
    const [members, projects, users] = await Promise.all([
      loadInitial(shapes.projectMembers(projectId)),
      loadInitial(shapes.projects()),
      loadInitial(shapes.users(projectId)),
    ]);
    return { members, projects, users };
  } catch (error) {
    if (error instanceof ShapeRefusedError) notFound();
    throw error;
  }
}

/** Like `loadInitial`, with a refusal answered as a 404 page. */
export async function loadOrNotFound<TTable extends TableName>(
  definition: ShapeDefinition<TTable>,
): Promise<InitialShape<TTable>> {
  try {
    return await loadInitial(definition);
  } catch (error) {
    if (error instanceof ShapeRefusedError) notFound();
    throw error;
  }
}
