/**
 * The CLI's usage (`hindsight --help`) and docs/configuration.md agree: each command's section
 * shows the same flags as the usage and describes each of them (the store flags `--data` and
 * `--database-url` once, under `serve`), and every environment variable the usage names is
 * documented.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { CLI } from './helpers.js';

const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
const STORE_FLAGS = ['--data', '--database-url'];

/** The flags named in `text`, sorted. */
const flagsIn = (text: string) => [...new Set(text.match(/--[a-z0-9-]+/g) ?? [])].sort();

/** Each command's `## \`hindsight <command>\`` section: its code blocks and the rest. */
function sections(): Map<string, { usage: string; prose: string }> {
  const found = new Map<string, { usage: string; prose: string }>();
  for (const part of doc.split(/^## /m).slice(1)) {
    const command = /^`hindsight ([a-z-]+(?: [a-z-]+)?)`/.exec(part)?.[1];
    if (command === undefined) continue;
    const blocks = part.split('```');
    found.set(command, {
      usage: blocks.filter((_, i) => i % 2 === 1).join('\n'),
      prose: blocks.filter((_, i) => i % 2 === 0).join('\n'),
    });
  }
  return found;
}

it('documents every command’s flags as its usage shows them, and every environment variable', async () => {
  const { stdout: usage } = await promisify(execFile)(process.execPath, [CLI, '--help']);
  const [commands = '', environment = ''] = usage.split('\nEnvironment:');
  const documented = sections();
  // The usage's lines of each documented command: `hindsight keys create …` goes to the section
  // `keys create`, `hindsight legal-hold place …` to `legal-hold`; continuation lines too.
  const usageOf = new Map<string, string>();
  let command = '';
  for (const line of commands.split('\n')) {
    const named = /^ {2}hindsight ([a-z][a-z-]*)(?: ([a-z][a-z-]*)(?= |$))?/.exec(line);
    if (named) {
      const full = `${named[1]} ${named[2] ?? ''}`.trim();
      command = documented.has(full) ? full : (named[1] ?? '');
    } else if (/^ {2}hindsight /.test(line)) command = '';
    if (command !== '') usageOf.set(command, `${usageOf.get(command) ?? ''}\n${line}`);
  }
  expect([...usageOf.keys()].sort()).toEqual([...documented.keys()].sort());
  const mismatched: string[] = [];
  const undescribed: string[] = [];
  for (const [name, { usage: shown, prose }] of documented) {
    const flags = flagsIn(usageOf.get(name) ?? '');
    if (flagsIn(shown).join(' ') !== flags.join(' ')) {
      mismatched.push(`${name}: usage ${flags.join(' ')}; docs ${flagsIn(shown).join(' ')}`);
    }
    for (const flag of flags) {
      const described = name === 'serve' || !STORE_FLAGS.includes(flag);
      if (described && !prose.includes(`\`${flag}`)) undescribed.push(`${name} ${flag}`);
    }
  }
  expect(mismatched).toEqual([]);
  expect(undescribed).toEqual([]);
  const variables = [...environment.matchAll(/HINDSIGHT_[A-Z0-9_]+/g)].map((m) => m[0]);
  expect(variables).toContain('HINDSIGHT_PDF_FONTS');
  expect(variables.filter((variable) => !doc.includes(`\`${variable}\``))).toEqual([]);
});
