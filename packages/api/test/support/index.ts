/**
 * Helpers of the api's integration tests, also used by apps that serve the api
 * (`@repo/api/testing`): the `apiTest` fixture, users with sessions and callers, snapshots of
 * the synced tables.
 */
export { apiTest } from "./fixture";
export { insertLogRows, loggedMutationIds } from "./mutation-log";
export {
  expectServerMatchesReducer,
  plain,
  rowCounts,
  snapshot,
  xminOf,
} from "./rows";
export type { Caller, TestUser } from "./users";
export {
  callerFor,
  createUser,
  mutate,
  newId,
  procedureOf,
  tick,
} from "./users";
