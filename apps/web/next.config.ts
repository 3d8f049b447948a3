import type { NextConfig } from "next";

// Validate env at build and start, not at the first request.
import "./src/env";

const config: NextConfig = {
  // Self-contained server for the Docker image (docker-compose.yml, apps/web/Dockerfile).
  output: "standalone",
  outputFileTracingRoot: new URL("../..", import.meta.url).pathname,
  // Workspace packages ship TypeScript sources.
  transpilePackages: ["@repo/api", "@repo/db"],
  // Loaded by Node, once per process. Bundled, each server entry (pages, route handlers,
  // instrumentation) carried a copy of its own, and a Y.Doc made by one copy fails the
  // constructor checks of another (`next build` warned "Yjs was already imported").
  serverExternalPackages: ["yjs"],
  typedRoutes: true,
  // The build checks the app's own files; test/ and bench/ are checked by `pnpm typecheck`
  // (tsconfig.json), so a type error there no longer breaks every browser-test build.
  typescript: { tsconfigPath: "tsconfig.build.json" },
};

export default config;
