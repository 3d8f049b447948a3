import { runtime } from "~/server/runtime";

const handler = (request: Request) =>
  runtime.handleFetch(request, { endpoint: "/api/trpc" });

export { handler as GET, handler as POST };
