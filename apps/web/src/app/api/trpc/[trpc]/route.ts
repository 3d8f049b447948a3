import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { db, resolveSession } from "~/server/api";

import { appRouter, createTRPCContext } from "@repo/api";

const handler = (req: Request) =>
  fetchRequestHandler({
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

export { handler as GET, handler as POST };
