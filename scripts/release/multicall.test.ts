import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TOOLS } from '../build-common.ts';
import { pickTool } from './multicall.ts';

test('the name it was started as picks the tool', () => {
  assert.deepEqual(pickTool('/usr/bin/sonic', ['list'], TOOLS), { tool: 'sonic', args: ['list'] });
  assert.deepEqual(pickTool('tardisd', ['--version'], TOOLS), { tool: 'tardisd', args: ['--version'] });
  // Only `tardis` takes a tool name as its first argument.
  assert.deepEqual(pickTool('regenerate', ['sonic'], TOOLS), { tool: 'regenerate', args: ['sonic'] });
});

test('as tardis, a first argument naming a tool runs it; anything else is a backup', () => {
  assert.deepEqual(pickTool('tardis', ['sonic', 'list', '-R', 'r'], TOOLS), { tool: 'sonic', args: ['list', '-R', 'r'] });
  assert.deepEqual(pickTool('./tardis', ['tardis', '/home'], TOOLS), { tool: 'tardis', args: ['/home'] });
  assert.deepEqual(pickTool('tardis', ['/some/dir'], TOOLS), { tool: 'tardis', args: ['/some/dir'] });
  assert.deepEqual(pickTool('tardis', ['./sonic'], TOOLS), { tool: 'tardis', args: ['./sonic'] });
  assert.deepEqual(pickTool('tardis', [], TOOLS), { tool: 'tardis', args: [] });
  assert.deepEqual(pickTool('tardis', ['--stats', 'sonic'], TOOLS), { tool: 'tardis', args: ['--stats', 'sonic'] });
});

test('another name (the dist file, node, bun, deno) counts as tardis', () => {
  assert.deepEqual(pickTool('/tmp/tardis-0.1.0-linux-arm64', ['regenerate', '-o', 'x'], TOOLS), { tool: 'regenerate', args: ['-o', 'x'] });
  assert.deepEqual(pickTool('node', ['--version'], TOOLS), { tool: 'tardis', args: ['--version'] });
  assert.deepEqual(pickTool('bun', ['tardisd', '--stdio'], TOOLS), { tool: 'tardisd', args: ['--stdio'] });
});
