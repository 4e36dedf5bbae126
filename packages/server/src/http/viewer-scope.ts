/**
 * What a viewer token limited to some categories may read, enforced on the server for every
 * route that returns events or their summaries (the console only mirrors it).
 *
 * A query of such a viewer must name one of its categories (`category=` or `category:` in `q`):
 * the stores AND their filters, so a named category is the one way to keep every result inside
 * the allowed set. A token with a single category gets it applied when the query names none.
 */
import type { QueryClause, ValueClause } from '@hindsight/core';
import type { Principal } from '../auth.js';
import { HindsightError } from '../errors.js';

/** The categories a caller may read; `null` for all. */
export function allowedCategories(principal: Principal | null): readonly string[] | null {
  return principal?.viewer?.categories ?? null;
}

/** Whether the caller may read events of `category`. */
export function mayRead(principal: Principal | null, category: string): boolean {
  const allowed = allowedCategories(principal);
  return allowed === null || allowed.includes(category);
}

/** Throws `forbidden` unless the caller may read `category` (a view of one category's events). */
export function requireCategory(principal: Principal | null, category: string): void {
  if (!mayRead(principal, category)) {
    throw new HindsightError(
      'forbidden',
      `This viewer token may not read the ${category} log; it may read: ${allowedCategories(principal)?.join(', ')}.`,
    );
  }
}

/**
 * The clauses of a query, kept inside the caller's categories: unchanged for a caller who may
 * read all; with a category clause added for a token of one category; `forbidden` when the query
 * names a category outside the token's, or (for a token of several) names none.
 */
export function withinCategories(
  principal: Principal | null,
  clauses: readonly QueryClause[],
): readonly QueryClause[] {
  const allowed = allowedCategories(principal);
  if (allowed === null) return clauses;
  const named = namedCategories(clauses);
  const outside = named.find((c) => !allowed.includes(c));
  if (outside !== undefined) requireCategory(principal, outside);
  if (named.length > 0) return clauses;
  const [only] = allowed;
  if (allowed.length === 1 && only !== undefined) {
    return [...clauses, { kind: 'category', value: only, negate: false, position: 0 }];
  }
  throw new HindsightError(
    'forbidden',
    `This viewer token may read only these categories: ${allowed.join(', ')}. ` +
      'Filter by one of them (category=… or category:… in q).',
  );
}

/** The categories a query names (its positive `category` clauses). */
export function namedCategories(clauses: readonly QueryClause[]): string[] {
  return clauses
    .filter((c): c is ValueClause => c.kind === 'category' && !c.negate)
    .map((c) => c.value);
}
