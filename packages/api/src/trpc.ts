/**
 * tRPC setup shared by every router.
 *
 * 1. CONTEXT: what a procedure sees: the database and the signed-in user, if any.
 * 2. INITIALISATION: superjson (dates round-trip) and an error shape clients can render.
 * 3. PROCEDURES: `publicProcedure`, and `authedProcedure` which guarantees a user.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";

import type { Db } from "@repo/db";

import { errorData } from "./errors";

// 1. CONTEXT ---------------------------------------------------------------------------------

/** The user behind a request, as the app's sign-in (better-auth) resolves it. */
export interface SessionUser {
  id: string;
  name: string;
  email: string;
}

/** Resolves the user of a request from its headers (cookie or bearer token); null if none. */
export type SessionResolver = (headers: Headers) => Promise<SessionUser | null>;

export interface CreateContextOptions {
  db: Db;
  headers: Headers;
  resolveSession: SessionResolver;
}

export async function createTRPCContext({
  db,
  headers,
  resolveSession,
}: CreateContextOptions) {
  return { db, user: await resolveSession(headers) };
}

export type Context = Awaited<ReturnType<typeof createTRPCContext>>;

// 2. INITIALISATION --------------------------------------------------------------------------

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  // tRPC adds `data.stack` (server paths, and for unknown failures their message, SQL included)
  // when NODE_ENV is not "production", which a standalone server need not set: never send it.
  isDev: false,
  // Every error response has the same shape (`AppErrorData` in data, see errors.ts), so clients
  // render them generically. Unknown failures keep their details in server logs: their message
  // could contain SQL or values.
  errorFormatter: ({ shape, error }) => {
    // Whatever built the shape, a stack never leaves the server.
    const { stack: _stack, ...data } = shape.data;
    return {
      ...shape,
      message:
        error.code === "INTERNAL_SERVER_ERROR"
          ? "Internal server error"
          : shape.message,
      data: { ...data, ...errorData(error) },
    };
  },
});

export const createCallerFactory = t.createCallerFactory;
export const createTRPCRouter = t.router;

// 3. PROCEDURES ------------------------------------------------------------------------------

export const publicProcedure = t.procedure;

export const authedProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.user)
    throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
  return next({ ctx: { ...ctx, user: ctx.user } });
});
