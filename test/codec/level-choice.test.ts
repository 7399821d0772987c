// LevelChoice (zstd:auto's memory by kind of data) and kindOfName: pure, no codec.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADAPTIVE_LOW_LEVEL, ADAPTIVE_MIN_FILE_BYTES, type CodecSpec, DEFAULT_ZSTD_LEVEL, parseCodec } from '../../lib/codec/codec.js';
import { BUNDLE_KIND, kindOfName, LevelChoice, MAX_KINDS, REPROBE_EVERY, SETTLE_PROBES } from '../../lib/codec/level-choice.js';

const name = (s: string) => kindOfName(Buffer.from(s));

test('kindOfName: the last component\'s extension, lowercased; none for dot files, bare names, long or empty extensions', () => {
  assert.is(name('/a/b/c.JS'), 'js');
  assert.is(name('x.tar.gz'), 'gz');
  assert.is(name('/srv/dir.d/Makefile'), '');
  assert.is(name('/home/u/.bashrc'), '');
  assert.is(name('.profile'), '');
  assert.is(name('a/b.'), '');
  assert.is(name('f.' + 'x'.repeat(16)), 'x'.repeat(16));
  assert.is(name('f.' + 'x'.repeat(17)), '');
  assert.is(name(''), '');
});

test('specForFile: fixed levels untouched; zstd:auto small files at the high level, large ones probed until their kind settles', () => {
  const levels = new LevelChoice();
  const fixed: CodecSpec = { name: 'zstd', level: 5 };
  assert.is(levels.specForFile(fixed, 1 << 30, Buffer.from('f.js')), fixed, 'an explicit level is never probed');
  const auto = parseCodec('zstd');
  assert.equal(levels.specForFile(auto, ADAPTIVE_MIN_FILE_BYTES - 1, Buffer.from('f.js')), { name: 'zstd', level: DEFAULT_ZSTD_LEVEL, adaptive: false });
  const big = levels.specForFile(auto, ADAPTIVE_MIN_FILE_BYTES, Buffer.from('f.js'));
  assert.equal(big, { ...auto, kind: 'js' });
  assert.ok(big !== auto, 'settling one file must not settle the next');
  assert.equal(auto, parseCodec('zstd'), 'the job\'s spec is left as it was');
});

test('a kind settles after SETTLE_PROBES probes on the level its bytes favour, and is probed again one file in REPROBE_EVERY', () => {
  const levels = new LevelChoice();
  // Level 3 saves 5 %: each probe favours it, and so does the tally.
  for (let i = 0; i < SETTLE_PROBES; i++) {
    assert.is(levels.levelFor('txt'), null, `probe ${i}`);
    assert.is(levels.record('txt', 1000, 950), DEFAULT_ZSTD_LEVEL);
  }
  let probes = 0;
  for (let i = 0; i < 3 * REPROBE_EVERY; i++) {
    const level = levels.levelFor('txt');
    if (level === null) { probes++; levels.record('txt', 1000, 950); } else assert.is(level, DEFAULT_ZSTD_LEVEL);
  }
  assert.is(probes, 3, 'one file in REPROBE_EVERY');
  assert.is(levels.levelFor('bin'), null, 'kinds are apart');
});

test('the tally weighs probes by their bytes: one large file that gains outweighs small ones that do not', () => {
  const levels = new LevelChoice();
  assert.is(levels.record('dat', 100_000, 90_000), DEFAULT_ZSTD_LEVEL);
  for (let i = 1; i < SETTLE_PROBES; i++) assert.is(levels.record('dat', 1000, 1000), ADAPTIVE_LOW_LEVEL, 'this probe alone: no gain');
  assert.is(levels.levelFor('dat'), DEFAULT_ZSTD_LEVEL);
  const flat = new LevelChoice();
  for (let i = 0; i < SETTLE_PROBES; i++) flat.record(BUNDLE_KIND, 1000, 995);
  assert.is(flat.levelFor(BUNDLE_KIND), ADAPTIVE_LOW_LEVEL, 'under 1 % saved: the low level');
});

test('a kind whose data changes character is followed by its re-probes', () => {
  const levels = new LevelChoice();
  for (let i = 0; i < SETTLE_PROBES; i++) levels.record('log', 1000, 999);
  assert.is(levels.levelFor('log'), ADAPTIVE_LOW_LEVEL);
  let level: number | null = ADAPTIVE_LOW_LEVEL;
  for (let i = 0; i < 50 * REPROBE_EVERY && level !== DEFAULT_ZSTD_LEVEL; i++) {
    level = levels.levelFor('log');
    if (level === null) levels.record('log', 1000, 800);
  }
  assert.is(level, DEFAULT_ZSTD_LEVEL, 'the tally moved to level 3');
});

test('memory is bounded: beyond MAX_KINDS kinds, new ones share one tally', () => {
  const levels = new LevelChoice();
  for (let i = 0; i < MAX_KINDS; i++) levels.record(`k${i}`, 1000, 1000);
  for (let i = 0; i < SETTLE_PROBES; i++) levels.record(`new${i}`, 1000, 900);
  assert.is(levels.levelFor('another'), DEFAULT_ZSTD_LEVEL, 'the shared tally of the kinds beyond the bound');
  assert.is(levels.levelFor('k1'), null, 'a remembered kind keeps its own (one probe so far)');
  assert.is(ADAPTIVE_LOW_LEVEL < DEFAULT_ZSTD_LEVEL, true);
});

test.run();
