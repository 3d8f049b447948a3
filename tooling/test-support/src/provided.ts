/** What globalSetup hands to every test file through vitest's `provide`/`inject`. */
declare module "vitest" {
  export interface ProvidedContext {
    /** Superuser URL of the test server's maintenance database. */
    postgresAdminUrl: string;
    /** A database with every migration applied, cloned for each test file. */
    templateDatabase: string;
  }
}

export {};
