import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * `pnpm --filter @repo/web bench`: the app's benchmark runs under vitest only to reuse the
 * browser tests' stack as it is (test/e2e/support: a database cloned from the run's migrated
 * template, which globalSetup provides). One file, one long "test"; the table goes to stdout.
 */
export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["bench/**/*.bench.ts"],
    globalSetup: ["@repo/test-support/global-setup"],
    // The table is printed as it is made, not held back until the file ends.
    disableConsoleIntercept: true,
    reporters: ["dot"],
    // A `next build` (when the sources changed) and two page sizes on a shared 2-core VM.
    testTimeout: 900_000,
    hookTimeout: 600_000,
  },
});
