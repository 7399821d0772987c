// One-time warnings (lib/fs/fs-error.ts warnOnce): once per warning sink, not once per process,
// so two commands in one process (a daemon, tests) each hear a fallback.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Warn } from '../../lib/errors/index.js';
import { warnOnce } from '../../lib/fs/index.js';

const sink = () => {
  const heard: string[] = [];
  const onWarn: Warn = (code, message) => { heard.push(`${code} ${message}`); };
  return { heard, onWarn };
};

test('a sink hears each key once, whatever the number of calls', () => {
  const a = sink();
  for (let i = 0; i < 1000; i++) warnOnce('k1', a.onWarn, 'NATIVE_FALLBACK', 'one');
  warnOnce('k2', a.onWarn, 'NATIVE_FALLBACK', 'two');
  warnOnce('k1', a.onWarn, 'NATIVE_FALLBACK', 'one again');
  assert.equal(a.heard, ['NATIVE_FALLBACK one', 'NATIVE_FALLBACK two']);
});

test('another sink hears the same key again: nothing is remembered for the process', () => {
  const a = sink(), b = sink();
  warnOnce('shared', a.onWarn, 'X', 'to a');
  warnOnce('shared', b.onWarn, 'X', 'to b');
  warnOnce('shared', a.onWarn, 'X', 'to a again');
  assert.equal(a.heard, ['X to a']);
  assert.equal(b.heard, ['X to b']);
});

test('a call with no sink records nothing: the first sink that listens still hears it', () => {
  warnOnce('unheard', undefined, 'X', 'lost');
  const a = sink();
  warnOnce('unheard', a.onWarn, 'X', 'heard');
  assert.equal(a.heard, ['X heard']);
});

test.run();
