import { defineConfig } from "vitest/config";

/**
 * Two projects (see tooling docs in README):
 * - unit: `src/**\/*.test.ts` next to the code; no I/O beyond the process; `*.test-d.ts` type
 *   tests beside them, run by vitest's typecheck.
 * - integration: `test/**\/*.int.test.ts`; a real PostgreSQL from globalSetup (embedded, or the
 *   server behind TEST_DATABASE_URL), a fresh migrated database per test file.
 */
export default defineConfig({
  test: {
    reporters: ["default", "./tooling/test-support/src/summary-reporter.ts"],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [
            "{apps,packages,tooling}/*/src/**/*.test.{ts,tsx}",
            "test/**/*.test.ts",
          ],
          exclude: ["**/node_modules/**", "**/*.int.test.ts"],
          environment: "node",
          // Type-level assertions (`*.test-d.ts`) that only the compiler can fail. Errors
          // elsewhere are the typecheck tasks' to report.
          typecheck: {
            enabled: true,
            include: ["{apps,packages,tooling}/*/src/**/*.test-d.ts"],
            tsconfig: "./tooling/typescript/type-tests.json",
            ignoreSourceErrors: true,
          },
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: [
            "{apps,packages}/*/test/**/*.int.test.{ts,tsx}",
            "tooling/*/test/**/*.int.test.ts",
            "test/**/*.int.test.ts",
          ],
          globalSetup: ["./tooling/test-support/src/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
