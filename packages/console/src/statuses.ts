/**
 * Status and outcome badges' words and tones. A status's label, tone and explanation come from
 * the view's `statuses` (the seed's table of delivery or integration statuses); a word the
 * view does not list is shown as it is, in a neutral tone.
 */
import type { ViewDefinition } from '@hindsight/core';

/** How a badge looks: never colour alone, always with its text. */
export type Tone = 'good' | 'neutral' | 'warning' | 'bad';

/** A status word, as a reader sees it. */
export interface StatusInfo {
  readonly value: string;
  readonly label: string;
  readonly tone: Tone;
  readonly explanation?: string;
}

/** `hard_bounce` → "Hard bounce", for words a view does not label. */
export function humanize(word: string): string {
  const spaced = word.replaceAll('_', ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/**
 * What a status word means in a view.
 * @example statusInfo(communications, 'mixed') // { label: 'Mixed status', tone: 'warning', … }
 */
export function statusInfo(view: ViewDefinition | undefined, value: string): StatusInfo {
  const known = view?.statuses?.find((s) => s.value === value);
  return known ?? { value, label: humanize(value), tone: 'neutral' };
}

const OUTCOMES: Record<string, StatusInfo> = {
  success: { value: 'success', label: 'Success', tone: 'good' },
  failure: { value: 'failure', label: 'Failure', tone: 'bad' },
  succeeded: { value: 'succeeded', label: 'Successful', tone: 'good' },
  failed: { value: 'failed', label: 'Failed', tone: 'bad' },
};

/** An outcome (`success`, `failure`) or a sign-in result (`succeeded`, `failed`). */
export function outcomeInfo(value: string): StatusInfo {
  return OUTCOMES[value] ?? { value, label: humanize(value), tone: 'neutral' };
}
