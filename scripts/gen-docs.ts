// Writes docs/commands.md, the command reference, from the built tools' own --help, so the two
// never disagree (docs/commands.test.ts fails when they do; `make docs` regenerates).
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Tools and the subcommands whose help is shown separately. */
const TOOLS: [string, string[]][] = [
  ['tardis', []],
  ['regenerate', []],
  ['lstardis', []],
  ['tardiff', []],
  ['sonic', ['create', 'list', 'info', 'tag', 'lock', 'unlock', 'priority', 'rename', 'delete', 'purge', 'orphans', 'files', 'setpass', 'chpass', 'keys', 'getconfig', 'setconfig', 'upgrade', 'check', 'rebuild']],
  ['tardisd', []],
];

function helpText(tool: string, sub?: string): string {
  const args = sub ? [sub, '--help'] : ['--help'];
  return execFileSync(path.join(ROOT, 'bin', tool), args, { encoding: 'utf8' })
    .replace(/^\S+\/\d+\.\d+\.\d+.*\n\n?/, '') // the version banner changes with every release
    .replace(/[ \t]+$/gm, '')
    .trimEnd();
}

export function commandReference(): string {
  const out = [
    '# Command reference',
    '',
    'Generated from each command\'s `--help` by `make docs`; do not edit by hand.',
    'Every option can also come from the environment variable shown in brackets.',
    '',
  ];
  for (const [tool, subs] of TOOLS) {
    out.push(`## ${tool}`, '', '```', helpText(tool), '```', '');
    for (const sub of subs) out.push(`### ${tool} ${sub}`, '', '```', helpText(tool, sub), '```', '');
  }
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!existsSync(path.join(ROOT, 'bin', 'tardis'))) throw new Error('run `make build` first');
  writeFileSync(path.join(ROOT, 'docs', 'commands.md'), commandReference());
  console.log('wrote docs/commands.md');
}
