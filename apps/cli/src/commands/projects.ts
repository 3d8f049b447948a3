/** `projects`: the projects the user is a member of; and `--project <id|name>` resolution. */
import type { Project } from "@repo/schema";
import { mutations } from "@repo/mutations";

import type { Session } from "../config";
import type { CliContext } from "../context";
import { sessionFor } from "../context";
import { CliError, EXIT } from "../errors";
import { json, printRows, shortDate } from "../output";
import { readShape } from "../shapes";
import { writeFromOptions } from "./run-writes";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function listProjects(context: CliContext): Promise<void> {
  const session = await sessionFor(context);
  const projects = (await readShape(session, { name: "projects" })).sort(
    (a, b) => a.name.localeCompare(b.name),
  );
  printRows(context, projects, {
    empty: "You are not a member of any project yet.",
    columns: [
      { header: "id", value: (project) => project.id },
      { header: "name", value: (project) => project.name, max: 40 },
      {
        header: "archived",
        value: (project) =>
          project.archivedAt ? shortDate(project.archivedAt) : "",
      },
      { header: "created", value: (project) => shortDate(project.createdAt) },
    ],
  });
}

/**
 * A project by id (used as given: the server decides whether the user may see it) or by name
 * (exact, case-insensitive) among the user's projects.
 */
export async function resolveProjectId(
  session: Session,
  reference: string,
): Promise<string> {
  if (GUID.test(reference)) return reference.toLowerCase();
  const projects = await readShape(session, { name: "projects" });
  const wanted = reference.trim().toLowerCase();
  const matches = projects.filter(
    (project: Project) => project.name.toLowerCase() === wanted,
  );
  const [only] = matches;
  if (only && matches.length === 1) return only.id;
  if (matches.length > 1)
    throw new CliError(
      `${matches.length} projects are named "${reference}": give the id (${matches.map((project) => project.id).join(", ")})`,
      EXIT.usage,
    );
  throw new CliError(
    `no project named "${reference}" among yours (\`projects\` lists them)`,
    EXIT.usage,
  );
}

export async function createProject(
  context: CliContext,
  options: { name: string; description?: string },
): Promise<void> {
  const session = await sessionFor(context);
  const input = {
    id: crypto.randomUUID(),
    ownerMemberId: crypto.randomUUID(),
    name: options.name,
    description: options.description,
    at: new Date(),
  };
  const result = await writeFromOptions(context, session, {
    definition: mutations.projects.create,
    input,
    optionOf: (field) => `--${field}`,
  });
  context.out(context.json ? json(result.data) : `created project ${input.id}`);
}
