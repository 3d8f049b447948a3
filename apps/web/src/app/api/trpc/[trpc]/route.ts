import { fetchRequestHandler } from "@trpc/server/adapters/fetch";

import { appRouter, createTRPCContext, MAX_REQUEST_BYTES } from "@repo/api";

import { db, resolveSession } from "~/server/api";
import { limitBody } from "~/server/limit-body";

const handler = async (request: Request) => {
  const req = await limitBody(request, MAX_REQUEST_BYTES);
  if (req instanceof Response) return req;
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    router: appRouter,
    req,
    createContext: () =>
      createTRPCContext({ db, headers: req.headers, resolveSession }),
    onError: ({ path, error }) => {
      if (error.code === "INTERNAL_SERVER_ERROR")
        console.error(`tRPC ${path ?? "?"} failed`, error);
    },
  });
};

export { handler as GET, handler as POST };
