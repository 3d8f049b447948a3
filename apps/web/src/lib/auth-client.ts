import { createAuthClient } from "better-auth/react";

/**
 * better-auth's browser client, on this app's `/api/auth` (same origin, so no base URL):
 * `signUp.email({ name, email, password })`, `signIn.email({ email, password })`,
 * `signOut()` (export its `useSession()` too when a component needs it). A successful sign-in
 * sets the HttpOnly session cookie that `/api/trpc` and `/api/shapes` read.
 */
const authClient = createAuthClient();

export const { signIn, signUp, signOut } = authClient;
