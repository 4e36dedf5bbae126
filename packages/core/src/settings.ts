/**
 * A tenant's settings: what its administrators' console looks like when a SaaS product embeds
 * it (issue #8). One TypeBox source gives the type, the validation and the OpenAPI schema.
 */
import { type Static, Type } from '@sinclair/typebox';

/**
 * An origin a page may embed the console from: `https://app.example.com`, with a port, or with a
 * `*.` wildcard for subdomains — nothing that could add to a Content-Security-Policy.
 */
export const FRAME_ANCESTOR_PATTERN =
  /^https?:\/\/(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?$/;

export const EmbedSettings = Type.Object(
  {
    frameAncestors: Type.Optional(
      Type.Array(Type.String({ pattern: FRAME_ANCESTOR_PATTERN.source, maxLength: 255 }), {
        maxItems: 20,
        uniqueItems: true,
        description:
          'Origins whose pages may embed the console (CSP `frame-ancestors`); none by default.',
      }),
    ),
    accentColor: Type.Optional(
      Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: 'The host\'s colour, "#RRGGBB".' }),
    ),
    logoUrl: Type.Optional(
      Type.String({
        pattern: '^https://[^\\s"\'<>\\\\]+$',
        maxLength: 2048,
        description: "An https URL of the host's logo, shown in the embedded console.",
      }),
    ),
    title: Type.Optional(
      Type.String({ minLength: 1, maxLength: 80, description: "The embedded console's heading." }),
    ),
  },
  {
    additionalProperties: false,
    description: 'How the embedded console looks and who may frame it.',
  },
);
export type EmbedSettings = Static<typeof EmbedSettings>;

/** Categories a retention policy names at most. */
export const MAX_RETENTION_CATEGORIES = 64;

/** Days to keep events: 1 day to 100 years. */
const Days = Type.Integer({ minimum: 1, maximum: 36_500 });

export const RetentionSettings = Type.Object(
  {
    days: Type.Optional(
      Type.Union([Days, Type.Null()], {
        description:
          'Days to keep events of categories without their own policy; `null` keeps them ' +
          "forever; absent: the server's default (`--retention-days`).",
      }),
    ),
    categories: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z0-9_-]{1,64}$' }), Type.Union([Days, Type.Null()]), {
        // A record's key pattern alone lets any other key through (`patternProperties`).
        additionalProperties: false,
        maxProperties: MAX_RETENTION_CATEGORIES,
        description:
          'Days to keep each category (`null`: forever), e.g. `{ "changes": 90 }`; at most ' +
          `${MAX_RETENTION_CATEGORIES} categories, named as events name theirs.`,
      }),
    ),
  },
  { additionalProperties: false, description: 'How long events are kept, by category.' },
);
export type RetentionSettings = Static<typeof RetentionSettings>;

export const LegalHold = Type.Object(
  {
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    since: Type.String({ description: 'When the hold was placed (RFC 3339).' }),
  },
  {
    additionalProperties: false,
    description: 'While set, nothing of the tenant is pruned, erased or deleted.',
  },
);
export type LegalHold = Static<typeof LegalHold>;

export const TenantSettings = Type.Object(
  {
    embed: Type.Optional(EmbedSettings),
    retention: Type.Optional(RetentionSettings),
    legalHold: Type.Optional(LegalHold),
    displayWindowDays: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 36_500,
        description:
          'How many days back the console shows by default; older events stay reachable ' +
          'through date filters and exports.',
      }),
    ),
    deletion: Type.Optional(
      Type.Object(
        { allowed: Type.Boolean({ description: 'Whether events may be deleted (redacted).' }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: "A tenant's settings." },
);
export type TenantSettings = Static<typeof TenantSettings>;
