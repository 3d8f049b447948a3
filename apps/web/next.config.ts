import type { NextConfig } from "next";

// Validate env at build and start, not at the first request.
import "./src/env";

const config: NextConfig = {
  // Self-contained server for the Docker image (docker-compose.yml, apps/web/Dockerfile).
  output: "standalone",
  outputFileTracingRoot: new URL("../..", import.meta.url).pathname,
  // Workspace packages ship TypeScript sources.
  transpilePackages: ["@repo/api", "@repo/db"],
  typedRoutes: true,
};

export default config;
