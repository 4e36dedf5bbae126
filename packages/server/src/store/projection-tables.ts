/**
 * The derived tables of the views (issue #5), alike in both stores: each store recomputes them
 * from the events (all tenants, or one after an erasure or deletion).
 */
export const PROJECTION_TABLE_NAMES = [
  'login_users',
  'login_countries',
  'message_receivers',
  'integrations',
  'event_counts',
  'event_days',
  'actor_days',
  'actors',
] as const;
