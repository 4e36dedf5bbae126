/**
 * The OpenAPI 3.1 document, rendered from the route table and the core schemas.
 */
import { EventInput, StoredEvent, ViewDefinition } from '@hindsight/core';
import type { TSchema } from '@sinclair/typebox';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import type { RouteSpec } from './routes.js';

type Json = Record<string, unknown>;

/** JSON Schema as plain data, with TypeBox `$ref: 'Name'` pointing into components. */
function schemaJson(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema), (key, value: unknown) =>
    key === '$ref' && typeof value === 'string' && !value.startsWith('#')
      ? `#/components/schemas/${value}`
      : key === '$id'
        ? undefined
        : value,
  ) as Json;
}

const ErrorBody = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_CODES) },
        message: { type: 'string' },
        details: { type: 'array', items: { type: 'object' } },
      },
    },
  },
};

function errorResponses(codes: readonly ErrorCode[]): Json {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const { status } = ERROR_CODES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Json = {};
  for (const [status, list] of byStatus) {
    out[String(status)] = {
      description: list.map((c) => `\`${c}\`: ${ERROR_CODES[c].description}`).join('\n\n'),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return out;
}

function parameters(route: RouteSpec): Json[] {
  const out: Json[] = [];
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.querystring],
  ] as const) {
    if (!schema) continue;
    const json = schemaJson(schema) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, prop] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = prop;
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: rest,
        ...(description === undefined ? {} : { description }),
      });
    }
  }
  return out;
}

/** The media types of a route's success response, without parameters. */
function mediaTypes(route: RouteSpec): string[] {
  const { contentType = 'application/json' } = route.success;
  return (typeof contentType === 'string' ? [contentType] : contentType).map(
    (type) => type.split(';')[0] ?? type,
  );
}

/** A body may come compressed (`body-encoding.ts`). */
const CONTENT_ENCODING: Json = {
  name: 'Content-Encoding',
  in: 'header',
  required: false,
  schema: { type: 'string', enum: ['gzip', 'x-gzip', 'deflate', 'br', 'identity'] },
  description:
    'The body compressed with this coding; decompressed, it must fit the 4 MiB limit (`413`). ' +
    'Any other coding is refused with `415`.',
};

/** The OpenAPI 3.1 document for the given routes. */
export function openApiDocument(routes: readonly RouteSpec[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const operation: Json = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description === undefined ? {} : { description: route.description }),
      ...(route.scope === null ? { security: [] } : { 'x-required-scope': route.scope }),
      parameters: [
        ...parameters(route),
        ...(route.headers ?? []).map((header) => ({
          name: header.name,
          in: 'header',
          required: false,
          schema: { type: 'string' },
          description: header.description,
        })),
        ...(route.body === undefined ? [] : [CONTENT_ENCODING]),
      ],
      ...(route.body === undefined
        ? {}
        : {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaJson(route.body) } },
            },
          }),
      responses: {
        [String(route.success.status)]: {
          description: route.success.description,
          ...(route.responseHeaders === undefined
            ? {}
            : {
                headers: Object.fromEntries(
                  route.responseHeaders.map((header) => [
                    header.name,
                    { description: header.description, schema: { type: 'string' } },
                  ]),
                ),
              }),
          ...(route.success.status === 204
            ? {}
            : {
                content: Object.fromEntries(
                  mediaTypes(route).map((type) => [
                    type,
                    { schema: schemaJson(route.success.schema) },
                  ]),
                ),
              }),
        },
        ...errorResponses(route.errors),
      },
    };
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Hindsight API',
      version,
      description:
        'Tamper-evident audit trail service. Errors are `{ error: { code, message, details? } }` ' +
        'with the stable codes listed under each response.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key.' } },
      schemas: {
        EventInput: schemaJson(EventInput),
        StoredEvent: schemaJson(StoredEvent),
        ViewDefinition: schemaJson(ViewDefinition),
        Error: ErrorBody,
      },
    },
  };
}
