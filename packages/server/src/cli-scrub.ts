/**
 * `hindsight scrub`: the server's integrity scrub (docs/operations.md#the-integrity-scrub) once,
 * from the command line, over the store itself — every tenant's log, or those named, checked with
 * the offline verifier against the verifier keys given. For a check after restoring a backup, on
 * a schedule of your own, or on a server run with `--scrub-interval off`. It needs no API key
 * and no signing key, and writes nothing: each log is checked up to its newest stored checkpoint.
 */
import { parseArgs } from 'node:util';
import type { VerifyReport } from '@hindsight/core';
import { storeLocation, storeOptions, UsageError, withStore } from './cli-usage.js';
import { readVerifierKey, reportLines } from './cli-verify.js';

/** `hindsight scrub --public-key FILE [--public-key FILE …] [--tenant T …] [--origin NAME] [--anchor-file FILE] [--json]`. */
export async function scrubCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...storeOptions,
      'public-key': { type: 'string', multiple: true },
      tenant: { type: 'string', multiple: true },
      origin: { type: 'string' },
      'anchor-file': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values['public-key'] === undefined) {
    throw new UsageError(
      "Give the server's verifier key with --public-key FILE (GET /v1/keys/public), once per key.",
    );
  }
  const verifierKey = values['public-key'].map(readVerifierKey);
  const origin = values.origin ?? process.env['HINDSIGHT_ORIGIN'] ?? 'hindsight';
  const anchorFile = values['anchor-file'] ?? process.env['HINDSIGHT_ANCHOR_FILE'];
  const { storedCheckpoints } = await import('./checkpoints.js');
  const { scrubTenant } = await import('./scrub.js');
  const { AnchorFileReader } = await import('./anchor-file.js');
  const reports = await withStore(storeLocation(values), async (store) => {
    const sizes = new Map((await store.tenants()).map((t) => [t.name, t.size]));
    const unknown = values.tenant?.filter((t) => !sizes.has(t)) ?? [];
    if (unknown.length > 0)
      throw new UsageError(`No tenant "${unknown.join('", "')}" in this store.`);
    const tenants = values.tenant ?? [...sizes.keys()].filter((t) => (sizes.get(t) ?? 0) > 0);
    const anchored = anchorFile ? await new AnchorFileReader(anchorFile).newest() : new Map();
    const checkpoints = storedCheckpoints(store, origin);
    const done: Array<VerifyReport & { tenant: string; unsigned: number }> = [];
    for (const tenant of tenants) {
      const note = anchored.get(tenant)?.note as string | undefined;
      const report = await scrubTenant(store, tenant, {
        checkpoints,
        verifierKey,
        ...(note === undefined ? {} : { trusted: [note] }),
        size: sizes.get(tenant) ?? 0,
      });
      // Events past the newest checkpoint (a server stopped before it signed them) cannot be
      // checked against a signature here.
      const unsigned = Math.max(
        0,
        (await store.logSize(tenant)) - ((await checkpoints.latest(tenant)) ?? { size: 0 }).size,
      );
      done.push({ ...report, tenant, unsigned });
      if (!values.json) {
        const lines = reportLines({ ...report, tenant });
        if (unsigned > 0) {
          lines.push(
            `  ${unsigned} newer ${unsigned === 1 ? 'event is' : 'events are'} not signed by a checkpoint yet, so not checked: the server signs them once it runs.`,
          );
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      }
    }
    return done;
  });
  const failed = reports.filter((r) => !r.ok);
  if (values.json) process.stdout.write(`${JSON.stringify(reports)}\n`);
  else {
    process.stdout.write(
      failed.length === 0
        ? `${reports.length} ${reports.length === 1 ? 'log verifies' : 'logs verify'}.\n`
        : `${failed.length} of ${reports.length} ${reports.length === 1 ? 'log does' : 'logs do'} not verify: ${failed.map((r) => r.tenant).join(', ')}.\n`,
    );
  }
  if (failed.length > 0) process.exitCode = 1;
}
