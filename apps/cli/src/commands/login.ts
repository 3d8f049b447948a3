/**
 * `login`, `logout`, `whoami`: a bearer session of the web app (better-auth), kept in the
 * config directory's 0600 session file. Sign-in: `POST /api/auth/sign-in/email`; the token
 * comes back in `set-auth-token` (better-auth's bearer plugin) and is sent as
 * `Authorization: Bearer` to /api/trpc and /api/shapes.
 */
import { createInterface } from "node:readline/promises";
import { z } from "zod";

import type { Session } from "../config";
import type { CliContext } from "../context";
import { deleteSession, readSession, writeSession } from "../config";
import { DEFAULT_URL, normalizeUrl } from "../context";
import { CliError, EXIT } from "../errors";
import { json } from "../output";

const UserSchema = z.object({
  id: z.guid(),
  name: z.string(),
  email: z.string(),
});
const SignInAnswer = z.object({ token: z.string().min(1), user: UserSchema });
const SessionAnswer = z.object({ user: UserSchema }).nullable();

export interface LoginOptions {
  email?: string;
  password?: string;
  passwordStdin?: boolean;
  token?: string;
}

async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    throw new CliError(
      `could not reach ${new URL(url).origin}: ${(error as Error).message}`,
      EXIT.unreachable,
    );
  }
}

async function refusal(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { message?: string };
    return body.message ?? text;
  } catch {
    return text || response.statusText;
  }
}

export async function login(
  context: CliContext,
  options: LoginOptions,
): Promise<void> {
  const url = normalizeUrl(context.url ?? DEFAULT_URL);
  const session = options.token
    ? await sessionOfToken(url, options.token)
    : await signIn(url, await credentials(options));
  await writeSession(context.configDir, session);
  context.out(
    context.json
      ? json({ url, user: session.user })
      : `signed in to ${url} as ${session.user.name} <${session.user.email}>`,
  );
}

async function credentials(
  options: LoginOptions,
): Promise<{ email: string; password: string }> {
  if (!options.email)
    throw new CliError("give --email (or --token)", EXIT.usage);
  let password = options.password;
  if (options.passwordStdin)
    password = (await readStdin()).replace(/\r?\n$/, "");
  else if (password === undefined && process.stdin.isTTY)
    password = await prompt("password: ");
  if (!password)
    throw new CliError(
      "give the password: typed at the prompt, --password-stdin, or --password",
      EXIT.usage,
    );
  return { email: options.email, password };
}

async function signIn(
  url: string,
  body: { email: string; password: string },
): Promise<Session> {
  const response = await request(`${url}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status === 401 || response.status === 403)
    throw new CliError(
      `sign-in refused: ${await refusal(response)}`,
      EXIT.unauthorized,
    );
  if (!response.ok)
    throw new CliError(
      `sign-in failed (${response.status}): ${await refusal(response)}`,
    );
  const answer = SignInAnswer.safeParse(await response.json());
  if (!answer.success)
    throw new CliError(`${url} did not answer like the tracker's sign-in`);
  // The bearer plugin's token (signed); the body's is the raw session token.
  const token = response.headers.get("set-auth-token") ?? answer.data.token;
  return { url, token, user: answer.data.user };
}

/** `login --token`: a session token made elsewhere, checked with the server before it is kept. */
async function sessionOfToken(url: string, token: string): Promise<Session> {
  const response = await request(`${url}/api/auth/get-session`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok)
    throw new CliError(
      `could not check the token (${response.status}): ${await refusal(response)}`,
    );
  const answer = SessionAnswer.safeParse(await response.json());
  if (!answer.success)
    throw new CliError(`${url} did not answer like the tracker's auth`);
  if (!answer.data)
    throw new CliError(
      "the server does not know this token (expired or signed out)",
      EXIT.unauthorized,
    );
  return { url, token, user: answer.data.user };
}

export async function logout(context: CliContext): Promise<void> {
  const session = await readSession(context.configDir);
  if (!session) {
    context.out("not signed in");
    return;
  }
  // Best effort: the token is forgotten here even if the server cannot be told.
  await fetch(`${session.url}/api/auth/sign-out`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${session.token}`,
      "content-type": "application/json",
    },
    body: "{}",
  }).catch(() => undefined);
  await deleteSession(context.configDir);
  context.out(`signed out of ${session.url}`);
}

export async function whoami(context: CliContext): Promise<void> {
  const session = await readSession(context.configDir);
  if (!session)
    throw new CliError("not signed in: run `login` first", EXIT.unauthorized);
  context.out(
    context.json
      ? json({ url: session.url, user: session.user })
      : `${session.user.name} <${session.user.email}> on ${session.url}`,
  );
}

async function readStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

/** Reads a line without echoing it (a password). */
async function prompt(question: string): Promise<string> {
  const lines = createInterface({
    input: process.stdin,
    output: process.stderr,
    terminal: true,
  });
  // readline echoes what it writes through _writeToOutput; print the question only.
  const muted = lines as unknown as { _writeToOutput: (text: string) => void };
  process.stderr.write(question);
  muted._writeToOutput = () => undefined;
  try {
    return await lines.question("");
  } finally {
    lines.close();
    process.stderr.write("\n");
  }
}
