/**
 * The production build the browser tests drive, made once: `next build` runs only when a
 * source file is newer than the last build, and one test file builds while the others wait on
 * a lock (parallel builds into one `.next` corrupt each other). The standalone server gets the
 * static files beside it, as apps/web/Dockerfile copies them.
 */
import { spawn } from "node:child_process";
import {
  cp,
  mkdir,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";

import { repoRoot, waitFor } from "@repo/test-support";

export const webDir = join(repoRoot, "apps/web");
const buildId = join(webDir, ".next/BUILD_ID");
const standaloneDir = join(webDir, ".next/standalone/apps/web");
/** The production server, as the Docker image runs it (`node apps/web/server.js`). */
export const standaloneServer = join(standaloneDir, "server.js");
/**
 * Warnings a build must not print. Two copies of Yjs in the server's bundles (one per entry:
 * pages, route handlers, instrumentation) break its constructor checks on every document
 * handed from one to another (next.config.ts' `serverExternalPackages`).
 */
const BUILD_WARNINGS = ["Yjs was already imported"];
const lockDir = join(webDir, ".next-build.lock");
/** What the app's build is made of: its own sources and the workspace packages it bundles. */
const SOURCES = [
  "apps/web/src",
  "apps/web/next.config.ts",
  "apps/web/tsconfig.json",
  "apps/web/tsconfig.build.json",
  "apps/web/postcss.config.mjs",
  "apps/web/package.json",
  "packages",
];

async function newestSource(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = 0;
  for (const entry of await readdir(path)) {
    // Generated or installed files are not sources.
    if (
      ["node_modules", "generated", "test", "bench", ".turbo"].includes(entry)
    )
      continue;
    newest = Math.max(newest, await newestSource(join(path, entry)));
  }
  return newest;
}

async function isFresh(): Promise<boolean> {
  const built = await stat(buildId).catch(() => undefined);
  if (!built) return false;
  // A build whose standalone server lacks its static files (copied after the build) is not done.
  if (!(await stat(join(standaloneDir, ".next/static")).catch(() => undefined)))
    return false;
  let newest = 0;
  for (const source of SOURCES)
    newest = Math.max(newest, await newestSource(join(repoRoot, source)));
  return built.mtimeMs > newest;
}

/**
 * A clean environment for the app's processes, as in a new shell: nothing of the test run's
 * own configuration (a developer's DATABASE_URL…) leaks into the app.
 */
export function cleanEnv(): Record<string, string> {
  return {
    // eslint-disable-next-line no-restricted-properties -- to find node
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    // eslint-disable-next-line no-restricted-properties -- caches under the home directory
    HOME: process.env.HOME ?? "/tmp",
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes the build lock, clearing one left by a process that no longer runs. */
async function lock(): Promise<void> {
  await waitFor(
    async () => {
      try {
        await mkdir(lockDir);
        await writeFile(join(lockDir, "pid"), String(process.pid));
        return true;
      } catch {
        const owner = Number(
          await readFile(join(lockDir, "pid"), "utf8").catch(() => "0"),
        );
        if (owner > 0 && !isAlive(owner))
          await rm(lockDir, { recursive: true, force: true });
        return false;
      }
    },
    {
      timeoutMs: 300_000,
      intervalMs: 250,
      describe: () => `the build lock ${lockDir} was never released`,
    },
  );
}

/** Builds apps/web for production unless the last build is newer than every source. */
export async function ensureWebBuild(): Promise<void> {
  if (await isFresh()) return;
  await lock();
  try {
    // Another file may have built while this one waited.
    if (await isFresh()) return;
    const output: string[] = [];
    const child = spawn(
      process.execPath,
      ["node_modules/next/dist/bin/next", "build"],
      {
        cwd: webDir,
        env: {
          ...cleanEnv(),
          NODE_ENV: "production",
          // As apps/web/Dockerfile builds: no database, no secrets; the server's env is
          // checked when it starts (so this build also proves the image's build works).
          SKIP_ENV_VALIDATION: "1",
          NEXT_TELEMETRY_DISABLED: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const code = await new Promise<number | null>((resolve) =>
      child.once("exit", resolve),
    );
    const printed = output.join("");
    if (code !== 0) throw new Error(`next build failed (${code}):\n${printed}`);
    const warned = BUILD_WARNINGS.filter((warning) =>
      printed.includes(warning),
    );
    if (warned.length > 0) {
      // Not a build to run the tests on, nor to take for fresh next time.
      await rm(buildId, { force: true });
      throw new Error(`next build warned: ${warned.join(", ")}\n${printed}`);
    }
    await cp(
      join(webDir, ".next/static"),
      join(standaloneDir, ".next/static"),
      {
        recursive: true,
      },
    );
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
