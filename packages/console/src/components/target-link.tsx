/**
 * A target by name (or id), linking back into the product when its `url` is an absolute
 * http(s) URL; anything else, `javascript:` included, stays plain text.
 */
import type { Target } from '@hindsight/core';
import { safeHref } from '../formats.js';

export function TargetLink({ target }: { readonly target: unknown }) {
  if (target === null || typeof target !== 'object') return null;
  const { name, id, url } = target as Partial<Target>;
  const label = name || id || '';
  const href = safeHref(url);
  if (href === null) return <span>{label}</span>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer" className="deep-link">
      {label}
      <span className="visually-hidden"> (opens in the product, in a new tab)</span>
    </a>
  );
}
