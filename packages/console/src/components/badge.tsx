/** A status or outcome as a badge: a shape and a word besides the colour, never colour alone. */
import type { StatusInfo, Tone } from '../statuses.js';

const MARKS: Record<Tone, string> = { good: '✓', neutral: '•', warning: '!', bad: '✕' };

export function Badge({ info }: { readonly info: StatusInfo }) {
  return (
    <span
      className={`badge badge-${info.tone}`}
      title={info.explanation}
      data-status={info.value}
      data-tone={info.tone}
    >
      <span className="badge-mark" aria-hidden="true">
        {MARKS[info.tone]}
      </span>
      {info.label}
    </span>
  );
}
