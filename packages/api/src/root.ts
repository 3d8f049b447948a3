import { commentsRouter } from "./routers/comments";
import { docsRouter } from "./routers/docs";
import { issuesRouter } from "./routers/issues";
import { membersRouter } from "./routers/members";
import { presenceRouter } from "./routers/presence";
import { projectsRouter } from "./routers/projects";
import { systemRouter } from "./routers/system";
import { createCallerFactory, createTRPCRouter } from "./trpc";

/**
 * Procedure paths equal mutation names (`issues.create` is `mutations.issues.create`), so a
 * client can call any queued mutation by its name.
 */
export const appRouter = createTRPCRouter({
  system: systemRouter,
  projects: projectsRouter,
  members: membersRouter,
  issues: issuesRouter,
  comments: commentsRouter,
  docs: docsRouter,
  presence: presenceRouter,
});

export type AppRouter = typeof appRouter;

/** Calls procedures in-process with a context of your own (tests; apps use the runtime's). */
export const createCaller = createCallerFactory(appRouter);
