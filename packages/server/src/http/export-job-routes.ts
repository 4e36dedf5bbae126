/**
 * Exports as background jobs (issue #9): start one with the parameters of `GET …/export`, watch
 * its progress, download its file when done. For exports too large to wait for in one request;
 * the streamed `GET …/export` stays for everything else.
 */
import { createReadStream } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { HindsightError } from '../errors.js';
import { ExportQuery } from './event-query.js';
import { AUTH_ERRORS, EXPORT_TYPES, exportSource, type RouteSpec, TenantParams } from './routes.js';

const JobParams = Type.Object(
  {
    tenant: TenantParams.properties.tenant,
    id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
  },
  { additionalProperties: false },
);

const Job = Type.Object({
  id: Type.String(),
  tenant: Type.String(),
  format: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  progress: Type.Object({
    events: Type.Union([Type.Integer(), Type.Null()]),
    total: Type.Union([Type.Integer(), Type.Null()]),
    bytes: Type.Integer(),
  }),
  createdAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  filename: Type.String(),
  file: Type.Union([Type.String(), Type.Null()], {
    description: 'Where to download it, once done.',
  }),
});

/** A job as answered, with its download path once done. */
function answer<T extends { tenant: string; id: string; status: string }>(view: T) {
  return {
    ...view,
    file:
      view.status === 'done'
        ? `/v1/tenants/${encodeURIComponent(view.tenant)}/exports/${view.id}/file`
        : null,
  };
}

export const EXPORT_JOB_ROUTES: readonly RouteSpec[] = [
  {
    method: 'POST',
    path: '/v1/tenants/:tenant/exports',
    operationId: 'startExport',
    summary: 'Start an export in the background',
    description:
      'Takes the query parameters of `GET …/export` (format, filters or ids) and answers at ' +
      'once with the job; poll `GET …/exports/{id}` for progress and download `file` when the ' +
      'status is `done`. Jobs live on the server that runs them for 24 hours.',
    scope: 'events:export',
    params: TenantParams,
    querystring: ExportQuery,
    success: { status: 202, description: 'The job, running.', schema: Job },
    errors: ['invalid_request', 'invalid_query', ...AUTH_ERRORS],
    handler: async (ctx, req, reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      const query = req.query as ExportQuery;
      const source = await exportSource(ctx, req, principal, tenant, query);
      const view = ctx.exports.start(tenant, query.format, EXPORT_TYPES[query.format], source);
      return reply.code(202).send(answer(view));
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/exports/:id',
    operationId: 'getExport',
    summary: 'An export job: its status and progress',
    scope: 'events:export',
    params: JobParams,
    success: { status: 200, description: 'The job.', schema: Job },
    errors: ['not_found', 'invalid_request', ...AUTH_ERRORS],
    handler: async (ctx, req) => {
      const { tenant, id } = req.params as { tenant: string; id: string };
      const view = ctx.exports.get(tenant, id);
      if (!view)
        throw new HindsightError('not_found', `No export job "${id}" in tenant "${tenant}".`);
      return answer(view);
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/exports/:id/file',
    operationId: 'downloadExport',
    summary: 'The file of a finished export job',
    scope: 'events:export',
    params: JobParams,
    success: {
      status: 200,
      description: 'The export, as an attachment.',
      schema: Type.String(),
      contentType: [EXPORT_TYPES.ndjson, EXPORT_TYPES.csv, EXPORT_TYPES.pdf],
    },
    errors: ['not_found', 'invalid_request', ...AUTH_ERRORS],
    handler: async (ctx, req, reply) => {
      const { tenant, id } = req.params as { tenant: string; id: string };
      const file = ctx.exports.file(tenant, id);
      if (!file) {
        throw new HindsightError(
          'not_found',
          `Export job "${id}" of tenant "${tenant}" has no file: it is unknown, still running or failed.`,
        );
      }
      return reply
        .type(file.contentType)
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .send(createReadStream(file.path));
    },
  },
];
