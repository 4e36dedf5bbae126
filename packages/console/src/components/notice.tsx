/** Loading, empty and error states that say what is happening and what to do. */
import type { ReactNode } from 'react';
import type { Problem } from '../problems.js';

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

export function ProblemNotice({
  problem,
  children,
}: {
  readonly problem: Problem;
  readonly children?: ReactNode;
}) {
  return (
    <div className="notice notice-error" role="alert" data-code={problem.code}>
      <p className="notice-title">{problem.title}</p>
      <p>{problem.detail}</p>
      {children}
    </div>
  );
}
