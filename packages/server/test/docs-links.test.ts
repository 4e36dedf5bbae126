import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The README, every page under docs/, and the packages' and examples' READMEs. */
function markdownFiles(): string[] {
  const files = [join(root, 'README.md')];
  for (const name of readdirSync(join(root, 'docs'))) {
    if (name.endsWith('.md')) files.push(join(root, 'docs', name));
  }
  for (const dir of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, dir))) {
      const readme = join(root, dir, name, 'README.md');
      if (existsSync(readme)) files.push(readme);
    }
  }
  return files;
}

/** Markdown without its fenced code blocks, where `#` and `](` are code, not headings or links. */
const prose = (file: string) => readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');

/**
 * The anchors GitHub gives a page's headings: lower case, punctuation dropped, each space a
 * hyphen, and `-1`, `-2` … after a repeated one.
 */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading] of prose(file).matchAll(/^#{1,6}\s+(.*)$/gm)) {
    const slug = (heading ?? '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

describe('the documentation', () => {
  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    let anchored = 0;
    for (const file of markdownFiles()) {
      for (const [, link] of prose(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (link === undefined || /^[a-z]+:/i.test(link)) continue;
        const [path, hash] = link.split('#');
        const target = path ? resolve(dirname(file), path) : file;
        const where = `${file.slice(root.length)}: ${link}`;
        if (!existsSync(target)) broken.push(`${where} (no such file)`);
        else if (hash && target.endsWith('.md')) {
          anchored++;
          if (!anchors(target).has(hash)) broken.push(`${where} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
    // The pages do link to one another's sections: the check above is not vacuous.
    expect(anchored).toBeGreaterThan(50);
  });

  it('is where the code says it is: every docs/….md#… named in a message or comment', () => {
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.tsx?$/.test(entry.name)) sources.push(path);
      }
    };
    for (const name of readdirSync(join(root, 'packages')))
      walk(join(root, 'packages', name, 'src'));
    const broken: string[] = [];
    let named = 0;
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const [, page, hash] of text.matchAll(
        /docs\/([a-z-]+\.md)(?:#([a-z0-9-]+))?(?![a-z0-9-])/g,
      )) {
        named++;
        const target = join(root, 'docs', page ?? '');
        const where = `${file.slice(root.length)}: docs/${page}${hash ? `#${hash}` : ''}`;
        if (!existsSync(target)) broken.push(`${where} (no such file)`);
        // An anchor cut by a line break in a string ("#the-integrity-" + "scrub") is not read.
        else if (hash && !hash.endsWith('-') && !anchors(target).has(hash)) {
          broken.push(`${where} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(named).toBeGreaterThan(30);
  });

  it('reads anchors as GitHub makes them', () => {
    const api = anchors(join(root, 'docs', 'api.md'));
    expect(api).toContain('get-v1tenantstenantexportformatcsvndjsonpdf--a-filtered-view');
    expect(anchors(join(root, 'docs', 'embedding.md'))).toContain('4-pin-the-verifier-key');
  });
});
