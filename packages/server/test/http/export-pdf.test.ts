/**
 * The PDF export (issue #9): a real PDF that poppler reads — the tenant, the filters, when, the
 * signed checkpoint's root, page numbers and every selected event — rendered to PNG under
 * `test-output/pdf/` for a person to look at.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPdfFont } from '../../src/pdf-fonts.js';
import { event, type TestApp, tempDir, testApp } from '../helpers.js';

const run = promisify(execFile);
const OUT = fileURLToPath(new URL('../../../../test-output/pdf/', import.meta.url));
/** poppler-utils (`apt-get install poppler-utils`); under CI=true a missing one fails the run. */
const POPPLER = existsSync('/usr/bin/pdftotext') || process.env['CI'] === 'true';

const tenant = 'pdf';
let t: TestApp;

beforeAll(async () => {
  t = await testApp();
  const events = Array.from({ length: 130 }, (_, i) =>
    event({
      tenant,
      id: `p${i}`,
      time: new Date(Date.UTC(2026, 10, 1, 9, 0, i)).toISOString(),
      category: i % 2 ? 'changes' : 'logins',
      action: i % 2 ? 'workflow.updated' : 'login.failed',
      outcome: i % 2 ? 'success' : 'failure',
      actor: { id: `u${i % 3}`, name: ['Zoë Ångström', 'Дмитрий Соколов', 'Ann Lee'][i % 3] ?? '' },
      description: `Change number ${i}, with "quotes", commas and a long sentence that wraps onto a second line in its cell`,
      targets: [{ type: 'workflow', id: `WF-${i}`, name: `Workflow ${i}` }],
    }),
  );
  expect((await t.post({ events })).statusCode).toBe(202);
});
afterAll(async () => {
  await t.close();
});

describe.skipIf(!POPPLER)('GET /v1/tenants/{tenant}/export?format=pdf', () => {
  it('is a PDF naming tenant, filters and checkpoint root, with every selected event and page numbers', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/tenants/${tenant}/export?format=pdf&category=changes&order=asc`,
      headers: { authorization: `Bearer ${t.admin}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(String(res.headers['content-disposition'])).toMatch(
      /^attachment; filename="pdf-changes-\d{4}-\d{2}-\d{2}\.pdf"$/,
    );
    const bytes = res.rawPayload;
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');

    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'export.pdf');
      writeFileSync(file, bytes);
      const { stdout: text } = await run('pdftotext', ['-layout', file, '-']);
      expect(text).toContain('Audit log of pdf');
      expect(text).toContain('Filters: category: changes');
      const checkpoint = await t.get(`/v1/tenants/${tenant}/checkpoint`);
      const root = checkpoint.body.split('\n')[2] ?? '';
      expect(root).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(text.replace(/\s+/g, '')).toContain(root);
      expect(text).toContain('Zoë Ångström');
      expect(text).toContain('Дмитрий Соколов');
      // Every odd event (the changes), none of the logins.
      for (let i = 1; i < 130; i += 2) expect(text).toContain(`Change number ${i},`);
      expect(text).not.toContain('login.failed');
      const { stdout: info } = await run('pdfinfo', [file]);
      const pages = Number(/Pages:\s+(\d+)/.exec(info)?.[1]);
      expect(pages).toBeGreaterThan(1);
      expect(text).toContain(`Page ${pages}`);

      mkdirSync(OUT, { recursive: true });
      await run('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', file, join(OUT, 'export')]);
      const png = readFileSync(join(OUT, 'export-1.png'));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
    } finally {
      tmp.remove();
    }
  });

  it('names the checkpoint of a log of one event in the singular, and shows direction overrides as marks', async () => {
    const actor = { id: 'u-bidi', name: 'Alice\u202Eevil' };
    expect((await t.post(event({ tenant: 'pdf-one', id: 'only', actor }))).statusCode).toBe(202);
    await expect
      .poll(async () => (await t.get('/v1/tenants/pdf-one/checkpoint')).statusCode)
      .toBe(200);
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/tenants/pdf-one/export?format=pdf',
      headers: { authorization: `Bearer ${t.admin}` },
    });
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'one.pdf');
      writeFileSync(file, res.rawPayload);
      const { stdout: text } = await run('pdftotext', ['-layout', file, '-']);
      expect(text).toMatch(/Latest signed checkpoint: 1 event, root /);
      expect(text).toContain('Alice⟨U+202E⟩evil');
    } finally {
      tmp.remove();
    }
  });

  // Debian's fonts-droid-fallback (installed by .ci/run): Chinese and Japanese, no Latin.
  const fallback = '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf';
  it.skipIf(!existsSync(fallback) && process.env['CI'] !== 'true')(
    'sets the characters DejaVu Sans lacks in the fallback fonts given, and only then',
    async () => {
      const description = `承認フローを更新しました (approval flow updated) ${'申請の承認者を変更しました。'.repeat(6)}`;
      const cjk = event({
        tenant: 'pdf-cjk',
        id: 'cjk',
        actor: { id: 'u-yamada', name: '山田 太郎' },
        description,
      });
      const withFont = await testApp(undefined, undefined, undefined, undefined, {
        pdfFonts: [loadPdfFont(fallback)],
      });
      const tmp = tempDir();
      /** The actor's events as a PDF of `app`: its text, its fonts, and a PNG to look at. */
      const exported = async (app: TestApp, name: string) => {
        expect((await app.post(cjk)).statusCode).toBe(202);
        const res = await app.app.inject({
          method: 'GET',
          url: '/v1/tenants/pdf-cjk/export?format=pdf&actor=u-yamada',
          headers: { authorization: `Bearer ${app.admin}` },
        });
        expect(res.statusCode, res.body).toBe(200);
        const file = join(tmp.dir, `${name}.pdf`);
        writeFileSync(file, res.rawPayload);
        mkdirSync(OUT, { recursive: true });
        await run('pdftoppm', ['-png', '-r', '80', '-l', '1', file, join(OUT, `cjk-${name}`)]);
        return {
          text: (await run('pdftotext', [file, '-'])).stdout,
          fonts: (await run('pdffonts', [file])).stdout,
        };
      };
      try {
        const plain = await exported(t, 'plain');
        const withFallback = await exported(withFont, 'fallback');
        // DejaVu Sans alone has no glyph for them: each is shown as □, and a note says why.
        expect(plain.fonts).not.toContain('DroidSansFallback');
        expect(plain.text).not.toContain('山田');
        expect(plain.text).toContain('□□ □□');
        expect(plain.text.replace(/\s+/g, ' ')).toContain('(approval flow updated)');
        const boxes = [...`山田太郎${description}`].filter((c) => /[^\x20-\x7e]/.test(c));
        expect(plain.text.replace(/\s+/g, ' ')).toContain(
          `${boxes.length} characters above, shown as □, are in a script this server has no font for.`,
        );
        expect(withFallback.text).not.toContain('□');
        // With the fallback, the Japanese in it and the Latin in DejaVu Sans, wrapped in the cell.
        expect(withFallback.fonts).toContain('DroidSansFallback');
        expect(withFallback.fonts).toContain('DejaVuSans');
        const text = withFallback.text.replace(/\s+/g, '');
        expect(text).toContain('山田太郎');
        expect(text).toContain('承認フローを更新しました(approvalflowupdated)');
        expect(text).toContain('申請の承認者を変更しました。'.repeat(6));
      } finally {
        tmp.remove();
        await withFont.close();
      }
    },
  );

  // A description of a thousand lines used to fill pages of blank rows, and a first row taller
  // than the room under the heading left the first page's table empty.
  it('cuts a cell too tall for a page, says so, and keeps every row on one page', async () => {
    const posted = await t.post({
      events: [
        event({
          tenant: 'pdf-long',
          id: 'tall',
          action: 'note.added',
          description: `Tall note begins${'\nline'.repeat(396)}`,
        }),
        event({ tenant: 'pdf-long', id: 'next', action: 'note.added', description: 'Short note' }),
      ],
    });
    expect(posted.statusCode, posted.body).toBe(202);
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/tenants/pdf-long/export?format=pdf&order=asc',
      headers: { authorization: `Bearer ${t.admin}` },
    });
    expect(res.statusCode).toBe(200);
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'long.pdf');
      writeFileSync(file, res.rawPayload);
      const { stdout: info } = await run('pdfinfo', [file]);
      expect(Number(/Pages:\s+(\d+)/.exec(info)?.[1])).toBe(1);
      const text = (await run('pdftotext', ['-layout', file, '-'])).stdout;
      expect(text).toContain('Tall note begins');
      expect(text).toContain('Short note');
      expect(text).toContain('1 cell above is cut short (…) to fit a page');
      expect(text.match(/line/g)?.length ?? 0).toBeLessThan(30);
    } finally {
      tmp.remove();
    }
  });

  // The user-management log's readers need the previous and new value (seed: license changes).
  it('shows each change as before → after, and the channel', async () => {
    const posted = await t.post(
      event({
        tenant: 'pdf-changes',
        id: 'lic',
        action: 'user.admin_rights.license_updated',
        channel: 'ui',
        status: 'provisioned',
        description: 'License of Mei Chen changed',
        changes: [
          { field: 'license', before: 'Field', after: 'Field Plus' },
          { field: 'pin', after: '9157', sensitive: true },
        ],
      }),
    );
    expect(posted.statusCode, posted.body).toBe(202);
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/tenants/pdf-changes/export?format=pdf',
      headers: { authorization: `Bearer ${t.admin}` },
    });
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'changes.pdf');
      writeFileSync(file, res.rawPayload);
      const text = (await run('pdftotext', ['-layout', file, '-'])).stdout;
      expect(text).toContain('license: Field → Field Plus');
      // An action wider than its column breaks after a dot, not inside a word.
      const plain = (await run('pdftotext', [file, '-'])).stdout;
      expect(plain).toMatch(/user\.admin_rights\.\s*\n\s*license_updated/);
      expect(text).toContain('pin: changed');
      expect(text).not.toContain('9157');
      expect(text).toContain('via ui');
      // Each row names its event by seq; an outcome and its status are words of their own.
      expect(text).toMatch(/\bseq 1\b/);
      expect(plain).toMatch(/\bsuccess\s*\n\s*provisioned\s*\n/);
    } finally {
      tmp.remove();
    }
  });

  it('says so when nothing matches, and exports picked ids', async () => {
    const empty = await t.app.inject({
      method: 'GET',
      url: `/v1/tenants/${tenant}/export?format=pdf&action=nothing.here`,
      headers: { authorization: `Bearer ${t.admin}` },
    });
    const picked = await t.app.inject({
      method: 'GET',
      url: `/v1/tenants/${tenant}/export?format=pdf&ids=p3,p4`,
      headers: { authorization: `Bearer ${t.admin}` },
    });
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'a.pdf'), empty.rawPayload);
      writeFileSync(join(tmp.dir, 'b.pdf'), picked.rawPayload);
      expect((await run('pdftotext', [join(tmp.dir, 'a.pdf'), '-'])).stdout).toContain(
        'No events match.',
      );
      const text = (await run('pdftotext', ['-layout', join(tmp.dir, 'b.pdf'), '-'])).stdout;
      expect(text).toContain('Events picked by id: 2');
      expect(text).toContain('Change number 3,');
      expect(text).not.toContain('Change number 5,');
    } finally {
      tmp.remove();
    }
  });
});
