export { runMigrations } from "./run-migrations";
export type {
  RunMigrationsOptions,
  RunMigrationsResult,
} from "./run-migrations";
export { readMigrationsDir } from "./migrations-dir";
export type { MigrationFile } from "./migrations-dir";
export { MigrationFailedError, MigrationHistoryError } from "./errors";
