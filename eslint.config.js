// One flat config for the whole repo; each workspace runs `eslint .` and finds it here.
// Type-aware rules matter in this codebase: it is mostly async mutation and stream handling,
// where no-floating-promises / no-misused-promises catch real bugs.
import nextPlugin from "@next/eslint-plugin-next";
import importX from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/** Files allowed to read process.env: one validated env module per boundary. */
const ENV_FILES = ["**/env.ts", "prisma.config.ts"];

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/generated/**",
      "**/.next/**",
      "**/dist/**",
      "**/scratch/**",
      "**/next-env.d.ts",
      "**/*.config.js",
    ],
  },
  {
    files: ["**/*.{ts,tsx}"],
    extends: [
      ...tseslint.configs.recommendedTypeChecked,
      ...tseslint.configs.stylisticTypeChecked,
    ],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "import-x": importX },
    rules: {
      "@typescript-eslint/consistent-type-imports": [
        "error",
        { prefer: "type-imports", fixStyle: "separate-type-imports" },
      ],
      "@typescript-eslint/no-non-null-assertion": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrorsIgnorePattern: "^_",
        },
      ],
      "@typescript-eslint/no-misused-promises": [
        "error",
        { checksVoidReturn: { attributes: false } },
      ],
      "@typescript-eslint/require-await": "off",
      "import-x/no-cycle": "error",
      "import-x/consistent-type-specifier-style": ["error", "prefer-top-level"],
      "no-restricted-properties": [
        "error",
        {
          object: "process",
          property: "env",
          message: "Read env through the package's validated env.ts instead.",
        },
      ],
    },
  },
  {
    files: ENV_FILES,
    rules: { "no-restricted-properties": "off" },
  },
  {
    // Rules that keep code easy to carry on: few parameters (pass an object), switches that
    // cover every case of a union, no conditions the types already decide, no stale
    // eslint-disable comments. Every workspace.
    files: ["**/*.{ts,tsx}"],
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/max-params": ["error", { max: 4 }],
      "@typescript-eslint/switch-exhaustiveness-check": [
        "error",
        { considerDefaultExhaustiveForUnions: true },
      ],
      "@typescript-eslint/no-unnecessary-condition": "error",
    },
  },
  {
    // Isomorphic packages (browser, server, any app): nothing but their declared imports.
    files: ["packages/schema/src/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(?!zod$|\\.{1,2}/)",
              message: "@repo/schema imports zod only.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["packages/mutations/src/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(?!zod$|@repo/schema$|\\.{1,2}/)",
              message: "@repo/mutations imports zod and @repo/schema only.",
            },
          ],
        },
      ],
    },
  },
  {
    // The client runtime runs in browsers, Node apps and workers: no Node built-ins, no server
    // packages. React sits in its own subpath, the file outbox in `@repo/sync/node`.
    files: ["packages/sync/src/**/*.{ts,tsx}"],
    ignores: ["**/*.test.{ts,tsx}", "packages/sync/src/outbox/file.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex:
                "^(?!zod$|superjson$|idb-keyval$|@electric-sql/client$|@repo/schema$|@repo/mutations$|react$|\\.{1,2}/)",
              message:
                "@repo/sync imports @electric-sql/client, @repo/schema, @repo/mutations, zod, superjson, idb-keyval (and react in src/react) only.",
            },
          ],
        },
      ],
    },
  },
  {
    // The collaborative editor runs in browsers (and Node, for the bench): no Node built-ins,
    // no server packages; React in src/react.
    files: ["packages/collab-editor/src/**/*.{ts,tsx}"],
    ignores: ["**/*.test.{ts,tsx}"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex:
                "^(?!yjs$|y-protocols/awareness$|y-codemirror\\.next$|@codemirror/(state|view|commands)$|@electric-sql/client$|@repo/schema$|react$|\\.{1,2}/)",
              message:
                "@repo/collab-editor imports yjs, y-protocols, CodeMirror, y-codemirror.next, @electric-sql/client and @repo/schema (and react in src/react) only.",
            },
          ],
        },
      ],
    },
  },
  {
    // The sync server speaks the protocol, not the domain: its code imports no workspace
    // package (tests may use the test harness).
    files: ["apps/sync-server/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@repo/*"],
              message:
                "apps/sync-server/src imports no workspace package: it speaks the protocol, not the domain.",
            },
          ],
        },
      ],
    },
  },
  {
    // Apps serve the api through its runtime (`createApiRuntime`), which owns the database:
    // their code never imports @repo/db (tests and benchmarks may, to check rows).
    files: ["apps/api-server/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@repo/db", "@repo/db/*"], message: "Use @repo/api." },
          ],
        },
      ],
    },
  },
  {
    // The app reaches data through @repo/api (procedures, authorisation), never Prisma directly.
    files: ["apps/web/**/*.{ts,tsx}"],
    plugins: { "@next/next": nextPlugin },
    rules: {
      ...nextPlugin.configs.recommended.rules,
      ...nextPlugin.configs["core-web-vitals"].rules,
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@repo/db", "@repo/db/*"], message: "Use @repo/api." },
          ],
        },
      ],
    },
  },
);
