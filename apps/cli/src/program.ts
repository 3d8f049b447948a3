/** The commands and their options (commander), each handing over to its module. */
import { Command, Option } from "commander";

import { IssuePrioritySchema, IssueStatusSchema } from "@repo/schema";

import type { CliContext } from "./context";
import { importCommand } from "./commands/import";
import { createIssue, listIssues, updateIssue } from "./commands/issues";
import { login, logout, whoami } from "./commands/login";
import { createProject, listProjects } from "./commands/projects";
import { watch } from "./commands/watch";
import { normalizeUrl } from "./context";

type Base = Omit<CliContext, "url" | "json">;

// The help lists the schema's values; the value itself is checked by the mutation's schema.
const STATUS = new Option(
  "--status <status>",
  IssueStatusSchema.options.join(", "),
);
const PRIORITY = new Option(
  "--priority <priority>",
  IssuePrioritySchema.options.join(", "),
);

const list = (value: string) =>
  value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");

export function buildProgram(
  base: Base,
  defaults: { url: string | undefined },
): Command {
  const program = new Command("tracker")
    .description(
      "The project tracker from a terminal: sign in, list and change issues, import a CSV, watch a project live.",
    )
    .option(
      "--url <url>",
      "the web app's base URL (default: $TRACKER_URL, the session's, or http://localhost:3000)",
    )
    .option("--json", "print JSON instead of text")
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({
      writeOut: (text) => base.out(text.trimEnd()),
      writeErr: (text) => base.err(text.trimEnd()),
    })
    .exitOverride();

  const context = (): CliContext => {
    const options = program.opts<{ url?: string; json?: boolean }>();
    const url = options.url ?? defaults.url;
    return {
      ...base,
      url: url === undefined ? undefined : normalizeUrl(url),
      json: options.json === true,
    };
  };

  program
    .command("login")
    .description(
      "sign in (email + password, or an existing session token) and keep the session",
    )
    .option("--email <email>", "your account's email")
    .option(
      "--password <password>",
      "the password (visible to other users of this machine: prefer the prompt or --password-stdin)",
    )
    .option("--password-stdin", "read the password from standard input")
    .option("--token <token>", "use a session token instead of a password")
    .addHelpText(
      "after",
      "\nExample:\n  tracker login --url http://localhost:3000 --email alice@example.com",
    )
    .action((options: Parameters<typeof login>[1]) =>
      login(context(), options),
    );

  program
    .command("logout")
    .description("sign out and forget the session")
    .action(() => logout(context()));

  program
    .command("whoami")
    .description("show who you are signed in as, and where")
    .action(() => whoami(context()));

  const projects = program
    .command("projects")
    .description("list the projects you are a member of (or create one)")
    .action(() => listProjects(context()));

  projects
    .command("create")
    .description("create a project (you become its owner)")
    .requiredOption("--name <name>", "the project's name")
    .option("-d, --description <text>", "what it is about")
    .action((options: { name: string; description?: string }) =>
      createProject(context(), options),
    );

  const issues = program
    .command("issues")
    .description("list, create, update and import issues");

  issues
    .command("list")
    .description("list a project's issues")
    .requiredOption("-p, --project <id|name>", "the project")
    .option("--status <list>", "only these statuses (comma-separated)", list)
    .option(
      "--priority <list>",
      "only these priorities (comma-separated)",
      list,
    )
    .option("--assignee <id|me|none>", "only issues assigned so")
    .option("-s, --search <text>", "only titles containing the text")
    .option("-n, --limit <n>", "at most n issues", (value) => Number(value))
    .addHelpText(
      "after",
      "\nExample:\n  tracker issues list -p Website --status todo,in_progress --assignee me",
    )
    .action((options: Parameters<typeof listIssues>[1]) =>
      listIssues(context(), options),
    );

  issues
    .command("create")
    .description("create an issue")
    .requiredOption("-p, --project <id|name>", "the project")
    .requiredOption("-t, --title <title>", "the title")
    .option("-d, --description <text>", "the description")
    .addOption(STATUS)
    .addOption(PRIORITY)
    .option("--assignee <user-id>", "a member of the project")
    .option("--sort-key <key>", "position in the list (default: last)")
    .addHelpText(
      "after",
      '\nExample:\n  tracker issues create -p Website -t "Fix the footer" --priority high',
    )
    .action((options: Parameters<typeof createIssue>[1]) =>
      createIssue(context(), options),
    );

  issues
    .command("update")
    .description("change an issue's fields")
    .argument("<id>", "the issue's id")
    .option("-t, --title <title>", "new title")
    .option("-d, --description <text>", "new description")
    .addOption(STATUS)
    .addOption(PRIORITY)
    .option("--assignee <user-id|none>", "assign to a member, or unassign")
    .option("--sort-key <key>", "new position in the list")
    .addHelpText(
      "after",
      "\nExample:\n  tracker issues update 0b7c…e1 --status done",
    )
    .action((id: string, options: Parameters<typeof updateIssue>[2]) =>
      updateIssue(context(), id, options),
    );

  issues
    .command("import")
    .description(
      "create issues from a CSV file (safe to re-run: rows already imported are skipped)",
    )
    .argument(
      "<file>",
      "CSV with a header row (see the README for the columns)",
    )
    .requiredOption("-p, --project <id|name>", "the project")
    .addHelpText(
      "after",
      "\nColumns: title (required), key, description, status, priority, assignee_id, sort_key." +
        "\nExample:\n  tracker issues import backlog.csv -p Website",
    )
    .action((file: string, options: { project: string }) =>
      importCommand(context(), file, options),
    );

  program
    .command("watch")
    .description("print each change to a project's issues as it happens")
    .requiredOption("-p, --project <id|name>", "the project")
    .action((options: { project: string }) => watch(context(), options));

  return program;
}
