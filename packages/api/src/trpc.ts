/**
 * tRPC setup shared by every router.
 *
 * 1. CONTEXT: what a procedure sees: the database and the signed-in user, if any.
 * 2. INITIALISATION: superjson (dates round-trip) and an error shape clients can render.
 * 3. PROCEDURES: `publicProcedure`, and `authedProcedure` which guarantees a user.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z } from "zod";

import type { Db } from "@repo/db";

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
  errorFormatter: ({ shape, error }) => ({
    ...shape,
    data: {
      ...shape.data,
      // Field-level messages for forms: { fieldErrors: { title: ["Too long"] }, formErrors: [] }
      zodError:
        error.cause instanceof z.ZodError ? z.flattenError(error.cause) : null,
    },
  }),
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
