"use client";

import type { FormEvent } from "react";
import { AlertCircle, SquareKanban } from "lucide-react";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useState } from "react";

import { Button } from "~/components/ui/button";
import { TextField } from "~/components/ui/field";
import { Spinner } from "~/components/ui/spinner";
import { signIn, signUp } from "~/lib/auth-client";

/** Only paths of this app: a `next` pointing elsewhere would make sign-in an open redirect. */
function safeNext(next: string | null): string {
  return next?.startsWith("/") && !next.startsWith("//") ? next : "/projects";
}

export function AuthForm({ mode }: { mode: "sign-in" | "sign-up" }) {
  const next = safeNext(useSearchParams().get("next"));
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const isSignUp = mode === "sign-up";

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const result = isSignUp
      ? await signUp.email({ name, email, password })
      : await signIn.email({ email, password });
    if (result.error) {
      setError(
        result.error.message ??
          (result.error.status === 429
            ? "Too many attempts; wait a few seconds and try again."
            : `Failed (${result.error.status})`),
      );
      setBusy(false);
      return;
    }
    // A full load, so the server renders the signed-in app with the new cookie.
    window.location.assign(next);
  };

  return (
    <div className="flex min-h-dvh flex-col items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm">
        <div className="mb-8 flex flex-col items-center text-center">
          <span className="mb-4 flex size-10 items-center justify-center rounded-lg bg-accent-600 text-white shadow-sm">
            <SquareKanban aria-hidden className="size-5" />
          </span>
          <h1 className="text-xl font-semibold tracking-tight">
            {isSignUp ? "Create your account" : "Sign in to Tracker"}
          </h1>
          <p className="mt-1 text-sm text-zinc-500">
            {isSignUp
              ? "Track issues with your team, live."
              : "Welcome back. Your projects are waiting."}
          </p>
        </div>
        <form
          onSubmit={(event) => void submit(event)}
          className="space-y-4 rounded-xl border border-zinc-200 bg-white p-6 shadow-sm"
          aria-describedby={error ? "auth-error" : undefined}
        >
          {error && (
            <div
              id="auth-error"
              role="alert"
              className="flex items-start gap-2 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700"
            >
              <AlertCircle aria-hidden className="mt-0.5 size-4 shrink-0" />
              {error}
            </div>
          )}
          {isSignUp && (
            <TextField
              label="Name"
              required
              autoComplete="name"
              value={name}
              onChange={setName}
            />
          )}
          <TextField
            label="Email"
            type="email"
            required
            autoComplete="email"
            value={email}
            onChange={setEmail}
          />
          <TextField
            label="Password"
            hint={isSignUp ? "At least 8 characters." : undefined}
            type="password"
            required
            minLength={isSignUp ? 8 : undefined}
            autoComplete={isSignUp ? "new-password" : "current-password"}
            value={password}
            onChange={setPassword}
          />
          <Button
            type="submit"
            variant="primary"
            disabled={busy}
            className="w-full"
          >
            {busy && <Spinner className="text-white" />}
            {isSignUp ? "Create account" : "Sign in"}
          </Button>
        </form>
        <p className="mt-6 text-center text-sm text-zinc-500">
          {isSignUp ? "Already have an account? " : "New here? "}
          <Link
            href={isSignUp ? "/sign-in" : "/sign-up"}
            className="font-medium text-accent-600 hover:underline"
          >
            {isSignUp ? "Sign in" : "Create an account"}
          </Link>
        </p>
      </div>
    </div>
  );
}
