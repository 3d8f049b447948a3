import { apiRuntime } from "~/server/runtime";

/** better-auth: sign-up, sign-in, sign-out, get-session (apps/web/README.md, "Sign-in"). */
const handler = (request: Request) => apiRuntime().handleAuth(request);

export { handler as GET, handler as POST };
