import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Logger, setProgramName, getProgramName } from './log.ts';
import { Progress } from './progress.ts';

function capture(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, text: () => chunks.join('') };
}

const emitAll = (log: Logger) => {
  log.error('e');
  log.warn('w');
  log.info('i');
  log.detail('d');
  log.debug('g');
};

test('verbosity levels', () => {
  const want: Record<number, string[]> = {
    [-1]: ['tardis: error: e'],
    0: ['tardis: error: e', 'tardis: warning: w'],
    1: ['tardis: error: e', 'tardis: warning: w', 'tardis: i'],
    2: ['tardis: error: e', 'tardis: warning: w', 'tardis: i', 'tardis: d'],
    3: ['tardis: error: e', 'tardis: warning: w', 'tardis: i', 'tardis: d', 'tardis: debug: g'],
  };
  for (const [v, lines] of Object.entries(want)) {
    const out = capture();
    const log = new Logger({ verbosity: Number(v), stream: out.stream });
    emitAll(log);
    assert.equal(out.text(), lines.map((l) => `${l}\n`).join(''), `verbosity ${v}`);
  }
  const log = new Logger({ verbosity: 1, stream: capture().stream });
  assert.equal(log.enabled('info'), true);
  assert.equal(log.enabled('detail'), false);
});

test('program name, time prefix, one line per message, Error objects', () => {
  const out = capture();
  const old = getProgramName();
  setProgramName('sonic');
  try {
    const log = new Logger({ verbosity: 0, stream: out.stream, time: true, now: () => new Date(2026, 10, 23, 8, 5, 9) });
    log.warn('file "a\nb" vanished\x1b[2J');
    log.error(new Error('disk full'));
  } finally {
    setProgramName(old);
  }
  assert.equal(
    out.text(),
    '2026-11-23 08:05:09 sonic: warning: file "a\\nb" vanished\\x1b[2J\n2026-11-23 08:05:09 sonic: error: disk full\n',
  );
});

test('JSON lines', () => {
  const out = capture();
  const log = new Logger({ verbosity: 1, stream: out.stream, json: true, now: () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) });
  log.info('multi\nline');
  log.debug('hidden');
  const lines = out.text().trimEnd().split('\n');
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]), { time: '2026-01-02T03:04:05.000Z', level: 'info', program: 'tardis', message: 'multi\nline' });
});

test('attached to an active progress line, messages go above it', () => {
  const out = capture();
  const stream = Object.assign(out.stream, { isTTY: true, columns: 80 });
  const progress = new Progress({ stream, now: () => 0 });
  const log = new Logger({ verbosity: 0, stream });
  log.attach(progress);
  progress.update({ files: 1, dirs: 0, bytesRead: 0, bytesNew: 0 });
  log.warn('careful');
  progress.done();
  const text = out.text();
  assert.match(text, /\r\S.*\x1b\[K\rtardis: warning: careful\x1b\[K\n\r.*1 files.*\x1b\[K\r\x1b\[K$/);
});
