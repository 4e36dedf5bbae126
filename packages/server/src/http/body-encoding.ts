/**
 * Compressed request bodies: `Content-Encoding: gzip`, `deflate` or `br`, as log shippers and
 * HTTP clients send large batches. A body is decompressed to at most the body limit (4 MiB),
 * so that a small body cannot expand into a large one; a coding the server does not know is
 * refused with `415` and the codings it takes.
 */
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, type ZlibOptions } from 'node:zlib';
import { HindsightError } from '../errors.js';

type Decoder = (body: Buffer, options: ZlibOptions) => Promise<Buffer>;

const gunzipAsync: Decoder = promisify<Buffer, ZlibOptions, Buffer>(gunzip);
const DECODERS: Record<string, Decoder> = {
  gzip: gunzipAsync,
  'x-gzip': gunzipAsync,
  deflate: promisify<Buffer, ZlibOptions, Buffer>(inflate),
  br: promisify<Buffer, ZlibOptions, Buffer>(brotliDecompress),
};

/** The codings a request body may have, as the `Accept-Encoding` of a 415 names them. */
export const BODY_ENCODINGS = 'gzip, deflate, br';

/** The body's content coding, lower case; `null` when it has none (or `identity`). */
export function bodyEncoding(header: string | string[] | undefined): string | null {
  const coding = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim().toLowerCase();
  return coding === '' || coding === 'identity' ? null : coding;
}

/**
 * The body as sent, decompressed when it has a content coding: `payload_too_large` past
 * `limit` bytes decompressed, `invalid_json` when it is not data of its coding,
 * `unsupported_media_type` for a coding other than those of {@link BODY_ENCODINGS}.
 */
export async function decodeBody(
  body: Buffer,
  coding: string | null,
  limit: number,
): Promise<Buffer> {
  if (coding === null) return body;
  const decode = DECODERS[coding];
  if (decode === undefined) {
    throw new HindsightError(
      'unsupported_media_type',
      `Content-Encoding "${coding}" is not supported: send the body as it is, or with ${BODY_ENCODINGS}.`,
    );
  }
  try {
    return await decode(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HindsightError(
        'payload_too_large',
        `The body is larger than ${limit / 1024 / 1024} MiB once decompressed.`,
        { cause: error },
      );
    }
    throw new HindsightError(
      'invalid_json',
      `The body is not valid ${coding} data (Content-Encoding): ${(error as Error).message}`,
      { cause: error },
    );
  }
}
