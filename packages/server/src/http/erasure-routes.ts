/**
 * GDPR erasure and permitted deletion (issue #9): the two routes that remove content from a
 * tenant's log without breaking a proof (docs/erasure.md). Both are refused while the tenant is
 * under legal hold, and both are recorded in the tenant's `audit` log without the content they
 * removed.
 */
import type { ErasureSubject } from '@hindsight/core';
import { Type } from '@sinclair/typebox';
import { NO_ARCHIVE_ERASURE } from '../archive-erase.js';
import type { Principal } from '../auth.js';
import { HindsightError } from '../errors.js';
import { newUlid } from '../ids.js';
import { countOf } from '../plural.js';
import { MAX_REDACTIONS } from '../store/erase-plan.js';
import type { AuditEntry } from './audit.js';
import { AUTH_ERRORS, checkBody, type RouteSpec, TenantParams } from './routes.js';
import { allowedCategories, mayRead } from './viewer-scope.js';

const ErasureRequest = Type.Object(
  {
    subject: Type.Union([
      Type.Object(
        {
          actorId: Type.String({
            minLength: 1,
            maxLength: 128,
            description: 'The id the product knows the person by (`actor.id`, `targets[].id`).',
          }),
        },
        { additionalProperties: false },
      ),
      Type.Object(
        {
          email: Type.String({
            minLength: 3,
            maxLength: 320,
            description:
              'The e-mail address, for people known by address (`actor.email`, exact match).',
          }),
        },
        { additionalProperties: false },
      ),
    ]),
  },
  { additionalProperties: false },
);

const ErasureResponse = Type.Object({
  erasureId: Type.String({
    description:
      'The reference of this erasure in the `audit` log (`metadata.erasureId`): keep it with ' +
      'the request you fulfilled; the log itself does not name the person.',
  }),
  events: Type.Integer({ description: 'Events of which personal values were erased now.' }),
  values: Type.Integer({ description: 'Personal values erased now.' }),
  exports: Type.Integer({
    description:
      'Background exports of the tenant withdrawn (`GET …/exports/{id}` shows them `failed`, ' +
      'their files removed): a file written before the erasure may hold the person.',
  }),
  archives: Type.Object(
    {
      files: Type.Integer({ description: 'Retention archives rewritten without the person.' }),
      events: Type.Integer({ description: 'Archived events of which values were erased now.' }),
      values: Type.Integer({ description: 'Personal values erased now in the archives.' }),
    },
    {
      description:
        'The retention archives of the tenant (docs/retention.md), all 0 when the server ' +
        'writes none: each one that holds the person is rewritten with the same values erased, ' +
        'and still verifies.',
    },
  ),
});

const DeletionRequest = Type.Object(
  {
    ids: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
      minItems: 1,
      maxItems: MAX_REDACTIONS,
    }),
  },
  { additionalProperties: false },
);

const IdSeq = Type.Object({ id: Type.String(), seq: Type.Integer({ minimum: 1 }) });

const DeletionResponse = Type.Object({
  deleted: Type.Array(IdSeq, { description: 'Deleted now: redacted leaves from now on.' }),
  alreadyDeleted: Type.Array(IdSeq, { description: 'Deleted before.' }),
  notFound: Type.Array(Type.String(), { description: 'Ids the tenant’s log does not have.' }),
  exports: Type.Integer({
    description:
      'Background exports of the tenant withdrawn because events were deleted now (as for an ' +
      'erasure): a file written before may hold their content.',
  }),
});

/** Who removes content, as a redacted leaf names them: the viewer, or the API key. */
function remover(principal: Principal | null): string {
  const viewer = principal?.viewer?.viewer;
  if (viewer) return `user:${viewer.id}`;
  return `api_key:${principal?.keyId ?? principal?.id ?? 'server'}`;
}

export const ERASURE_ROUTES: readonly RouteSpec[] = [
  {
    method: 'POST',
    path: '/v1/tenants/:tenant/erasures',
    operationId: 'eraseSubject',
    summary: 'Erase a person’s personal values from every event of the tenant (GDPR)',
    description:
      'Removes every personal value of the person — as actor: name, e-mail, IP (with its ' +
      'location), user agent (with its client); as target: the target’s name and the ' +
      '`changes` values of the event — and their salts. The events stay, the person shows as ' +
      '"Deleted User", and every leaf hash, checkpoint and proof stays valid (the commitments ' +
      'stay, in `erased`). The same values are erased in the tenant’s retention archives. ' +
      'Description and metadata are hashed as they are and are not changed (docs/erasure.md). ' +
      'Idempotent. Refused with 409 `legal_hold` under legal hold. ' +
      'Recorded in the tenant’s `audit` log (`audit_log.erased`) without the person’s identity.',
    scope: 'events:delete',
    params: TenantParams,
    body: ErasureRequest,
    success: { status: 200, description: 'Erased.', schema: ErasureResponse },
    errors: ['invalid_json', 'invalid_request', 'legal_hold', ...AUTH_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      const { subject: asked } = checkBody(ErasureRequest, req.body);
      const subject: ErasureSubject =
        'actorId' in asked ? { actorId: asked.actorId } : { email: asked.email };
      if (allowedCategories(principal) !== null) {
        throw new HindsightError(
          'forbidden',
          'This viewer token is limited to some categories; an erasure concerns every ' +
            'category of the log. Use a token without categories, or an API key.',
        );
      }
      const erasureId = newUlid(Date.now());
      const kind = subject.actorId !== undefined ? 'actorId' : 'email';
      const entry = (what: string, metadata: Record<string, unknown>): AuditEntry => ({
        tenant,
        action: 'audit_log.erased',
        log: 'all',
        description: `erased a person's personal values${what} (erasure ${erasureId})`,
        metadata: { erasureId, subject: kind, ...metadata },
      });
      // Kept with the erasure, its counts added by the store; told in full once the archives
      // and exports are done too.
      const pending = ctx.audit.change(principal, req, entry('', {}));
      // An entry still pending (its append failed) may name the person: into the log first,
      // where the erasure reaches it, rather than after it, where it would not.
      await ctx.audit.flush();
      const result = await ctx.store.erase(tenant, subject, pending ?? undefined);
      // After the store: an archive written from now on no longer holds the person.
      const archives = (await ctx.archives?.erase(tenant, subject)) ?? NO_ARCHIVE_ERASURE;
      const exports = ctx.exports.withdraw(
        tenant,
        `Withdrawn by erasure ${erasureId}: the file may hold an erased person's values. Export again.`,
      );
      const final = ctx.audit.change(
        principal,
        req,
        entry(` from ${countOf(result.events, 'event')}`, {
          events: result.events,
          values: result.values,
          archivedEvents: archives.events,
          withdrawnExports: exports,
        }),
        pending,
      );
      await ctx.audit.settle(pending, final);
      return { erasureId, ...result, exports, archives };
    },
  },
  {
    method: 'POST',
    path: '/v1/tenants/:tenant/deletions',
    operationId: 'deleteEvents',
    summary: 'Delete events, where the tenant permits it, as redacted leaves',
    description:
      'Each event’s content is removed; its `seq`, id and leaf hash stay, with when and by ' +
      'whom, so the log still verifies and `hindsight verify` reports the event as redacted. ' +
      'Deleted events are no longer read, searched, counted or exported as events. Needs the ' +
      'tenant setting `deletion: { allowed: true }` (else 403 `deletion_not_allowed`); refused ' +
      'with 409 `legal_hold` under legal hold. At most 1,000 ids. Idempotent per id. Recorded ' +
      'in the tenant’s `audit` log (`audit_log.deleted`, with the seqs).',
    scope: 'events:delete',
    params: TenantParams,
    body: DeletionRequest,
    success: { status: 200, description: 'What was deleted.', schema: DeletionResponse },
    errors: [
      'invalid_json',
      'invalid_request',
      'deletion_not_allowed',
      'legal_hold',
      ...AUTH_ERRORS,
    ],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      const asked = checkBody(DeletionRequest, req.body).ids;
      // A token of some categories deletes only events of those; the others are not found, as
      // on every route that reads them (a refusal would tell that they exist, and their log).
      const hidden: string[] = [];
      if (allowedCategories(principal) !== null) {
        for (const id of new Set(asked)) {
          const event = await ctx.store.getEvent(tenant, id);
          if (event && !mayRead(principal, event.category)) hidden.push(id);
        }
      }
      const ids = asked.filter((id) => !hidden.includes(id));
      const entry = (description: string, metadata?: Record<string, unknown>): AuditEntry => ({
        tenant,
        action: 'audit_log.deleted',
        log: 'all',
        description,
        ...(metadata ? { metadata } : {}),
      });
      // Kept with the deletion when it deletes any event, its count and seqs added by the store.
      const pending = ctx.audit.change(principal, req, entry('deleted events'));
      const redacted =
        ids.length === 0
          ? { deleted: [], alreadyDeleted: [], notFound: [] }
          : await ctx.store.redact(
              { tenant, ids, by: remover(principal), at: new Date().toISOString() },
              pending ?? undefined,
            );
      // In the order asked, so that where an id is listed tells nothing either.
      const missing = new Set([...redacted.notFound, ...hidden]);
      const result = { ...redacted, notFound: [...new Set(asked)].filter((id) => missing.has(id)) };
      let exports = 0;
      if (result.deleted.length > 0) {
        exports = ctx.exports.withdraw(
          tenant,
          'Withdrawn by a deletion of events: the file may hold their content. Export again.',
        );
        const final = ctx.audit.change(
          principal,
          req,
          entry(`deleted ${countOf(result.deleted.length, 'event')}`, {
            events: result.deleted.length,
            seqs: result.deleted.map((d) => d.seq),
          }),
          pending,
        );
        await ctx.audit.settle(pending, final);
      }
      return { ...result, exports };
    },
  },
];
