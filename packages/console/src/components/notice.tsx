/** Loading, empty and error states that say what is happening and what to do. */
import { type ReactNode, useContext } from 'react';
import type { Problem } from '../problems.js';
import { SignOutContext } from '../sign-out-context.js';

export function Loading({ what }: { readonly what: string }) {
  return (
    <p className="notice notice-loading" role="status">
      <span className="spinner" aria-hidden="true" />
      Loading {what}…
    </p>
  );
}

export function Empty({
  title,
  children,
}: {
  readonly title: string;
  readonly children?: ReactNode;
}) {
  return (
    <div className="notice notice-empty" role="status">
      <p className="notice-title">{title}</p>
      {children}
    </div>
  );
}

/**
 * A problem with the ways out its remedies name (`explain`), as far as the screen can take
 * them: "Try again" with `onRetry`, "Go to the first page" with `onFirstPage` (a list past its
 * first page), "Sign out" when signed in with a key. `children` add what is particular to the
 * screen.
 */
export function ProblemNotice({
  problem,
  onRetry,
  onFirstPage,
  children,
}: {
  readonly problem: Problem;
  readonly onRetry?: (() => void) | undefined;
  readonly onFirstPage?: (() => void) | undefined;
  readonly children?: ReactNode;
}) {
  const signOut = useContext(SignOutContext);
  const actions = { retry: onRetry, 'first-page': onFirstPage, 'sign-out': signOut ?? undefined };
  const labels = {
    retry: 'Try again',
    'first-page': 'Go to the first page',
    'sign-out': 'Sign out',
  };
  const offered = (problem.remedies ?? []).flatMap((remedy) => {
    const action = actions[remedy];
    return action ? [{ remedy, action }] : [];
  });
  return (
    <div className="notice notice-error" role="alert" data-code={problem.code}>
      <p className="notice-title">{problem.title}</p>
      <p>{problem.detail}</p>
      {offered.length > 0 && (
        <p className="notice-actions">
          {offered.map(({ remedy, action }) => (
            <button key={remedy} type="button" onClick={action}>
              {labels[remedy]}
            </button>
          ))}
        </p>
      )}
      {children}
    </div>
  );
}
