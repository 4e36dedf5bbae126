/**
 * Legal hold routes (issue #9): an admin places a hold on a tenant's log, with a reason, and
 * lifts it; both are recorded in the tenant's `audit` log. Retention policies are tenant
 * settings (`retention`, `PUT /v1/tenants/{tenant}/settings`).
 */
import { LegalHold } from '@hindsight/core';
import { Type } from '@sinclair/typebox';
import { liftLegalHold, placeLegalHold } from '../legal-hold.js';
import { AUTH_ERRORS, checkBody, type RouteSpec, TenantParams } from './routes.js';

const HoldRequest = Type.Object(
  { reason: LegalHold.properties.reason },
  { additionalProperties: false },
);

const HoldState = Type.Object({ legalHold: Type.Union([LegalHold, Type.Null()]) });

export const RETENTION_ROUTES: readonly RouteSpec[] = [
  {
    method: 'PUT',
    path: '/v1/tenants/:tenant/legal-hold',
    operationId: 'placeLegalHold',
    summary: 'Place the tenant’s log under legal hold',
    description:
      'While the hold lasts, nothing of the tenant’s log is pruned by retention, erased or ' +
      'deleted (those answer 409 `legal_hold`). Placing it again changes the reason and keeps ' +
      'the time it was first placed. Recorded in the tenant’s `audit` log.',
    scope: 'admin',
    params: TenantParams,
    body: HoldRequest,
    success: { status: 200, description: 'The hold as stored.', schema: HoldState },
    errors: ['invalid_json', 'invalid_request', ...AUTH_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      const { reason } = checkBody(HoldRequest, req.body);
      const { hold, audit } = await placeLegalHold(ctx.store, tenant, reason, (held, placed) =>
        ctx.audit.change(principal, req, {
          tenant,
          action: placed ? 'legal_hold.placed' : 'legal_hold.updated',
          log: 'all',
          description: `${placed ? 'placed the log under legal hold' : 'changed the reason of the legal hold'}: ${reason}`,
          metadata: { reason, since: held.since },
        }),
      );
      await ctx.audit.settle(audit);
      return { legalHold: hold };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/tenants/:tenant/legal-hold',
    operationId: 'liftLegalHold',
    summary: 'Lift the tenant’s legal hold',
    description:
      'Retention, erasure and deletion apply again from now on. Recorded in the tenant’s ' +
      '`audit` log when there was a hold.',
    scope: 'admin',
    params: TenantParams,
    success: { status: 200, description: 'No hold any more.', schema: HoldState },
    errors: ['invalid_request', ...AUTH_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      const { audit } = await liftLegalHold(ctx.store, tenant, (lifted) =>
        ctx.audit.change(principal, req, {
          tenant,
          action: 'legal_hold.lifted',
          log: 'all',
          description: `lifted the legal hold placed at ${lifted.since} (${lifted.reason})`,
          metadata: { reason: lifted.reason, since: lifted.since },
        }),
      );
      await ctx.audit.settle(audit);
      return { legalHold: null };
    },
  },
];
