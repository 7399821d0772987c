// bin/fxcp (a link to bin/fxcp.cjs, whose first line starts node through `env -S -u ...`):
// it must drop NODE_EXTRA_CA_CERTS, which costs ~100 ms of every start, keep the rest of the
// environment, and work through a link elsewhere, the way npm installs it.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fxcp, FXCP, ROOT, tempDir } from '../helpers/run-cli.js';
import { spawnSync } from 'node:child_process';

test('NODE_EXTRA_CA_CERTS is not passed to node', () => {
  // Node warns on stderr when the file it names cannot be loaded: no warning means not read.
  const r = fxcp(['--version'], { env: { NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' } });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('the rest of the environment reaches fxcp', () => {
  const r = fxcp(['doctor', '--json'], { env: { NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem', FOXING_NO_NATIVE: '1' } });
  assert.is(r.code, 0, r.stderr);
  assert.match(JSON.parse(r.stdout).nativeAddon, /FOXING_NO_NATIVE=1/);
});

test('node starts with an 8 MiB young generation (fewer scavenges of a copy\'s objects in flight)', () => {
  // NODE_OPTIONS reaches node through the launcher: a preloaded hook reports the new space's size.
  const t = tempDir();
  try {
    const hook = join(t.path, 'report-new-space.cjs');
    writeFileSync(hook, "process.on('exit', () => require('fs').writeSync(2, `new_space:${require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size}\\n`));\n");
    const r = fxcp(['--version'], { env: { NODE_OPTIONS: `-r ${hook}` } });
    assert.is(r.code, 0, r.stderr);
    const size = Number(/new_space:(\d+)/.exec(r.stderr)?.[1]);
    assert.ok(size >= 8 << 20, `new space ${size} bytes: ${r.stderr}`);
  } finally {
    t.cleanup();
  }
});

test('runs through a symbolic link from another directory', () => {
  const t = tempDir();
  try {
    const link = join(t.path, 'fxcp');
    symlinkSync(FXCP, link);
    const r = spawnSync(link, ['--version'], { cwd: t.path, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  } finally {
    t.cleanup();
  }
});

test('a text command never creates process.stdout (which would load net and make a stdout pipe non-blocking)', () => {
  // Node lists every internal module it loaded; a preloaded hook reports at exit whether
  // creating process.stdout pulled in net (yargs' platform shim reads stdout's columns when it
  // loads: bin/build.js leaves the shim out of the bundle).
  const t = tempDir();
  try {
    const hook = join(t.path, 'report-net.cjs');
    // As bin/fxcp starts node: reading that certificate file loads net by itself.
    const { NODE_EXTRA_CA_CERTS: _, ...withoutExtraCerts } = process.env;
    writeFileSync(hook, "process.on('exit', () => require('fs').writeSync(2, `net:${process.moduleLoadList.includes('NativeModule net')}\\n`));\n");
    for (const args of [['--version'], ['snap', 'list', join(t.path, 'none')], ['snap', 'restore', 'x', '-o']]) {
      const r = spawnSync(process.execPath, ['-r', hook, join(FXCP, '..', 'fxcp.cjs'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
        env: withoutExtraCerts });
      assert.match(r.stderr, /net:false/, `${args.join(' ')}: ${r.stderr}`);
    }
  } finally {
    t.cleanup();
  }
});

test('a plain copy loads neither the store nor the codecs (node:crypto, node:zlib, perf_hooks: ~45 ms of its start)', () => {
  // --snapshot, --compare, --cleanup and `fxcp - DEST` load them when asked for (commands/copy.ts).
  const t = tempDir();
  try {
    mkdirSync(join(t.path, 'src'));
    writeFileSync(join(t.path, 'src', 'f'), 'data');
    const hook = join(t.path, 'report-modules.cjs');
    writeFileSync(hook, "process.on('exit', () => require('fs').writeSync(2, `loaded:${process.moduleLoadList.filter((m) => /^NativeModule (crypto|zlib|perf_hooks)$/.test(m))}\\n`));\n");
    const r = spawnSync(process.execPath, ['-r', hook, join(FXCP, '..', 'fxcp.cjs'), '-a', join(t.path, 'src/'), join(t.path, 'dst')], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.is(readFileSync(join(t.path, 'dst', 'f'), 'utf8'), 'data');
    assert.match(r.stderr, /^loaded:\n$/m, r.stderr);
  } finally {
    t.cleanup();
  }
});

test('the working directory is not searched for a package.json (a FIFO of that name there hung fxcp)', () => {
  // A yargs instance looks for a package.json from the working directory up to guess a version;
  // fxcp uses only yargs' parser, which does not (bin/build.js). With the search, this read
  // blocked for ever.
  const t = tempDir();
  try {
    const cwd = join(t.path, 'work');
    mkdirSync(cwd);
    if (spawnSync('mkfifo', [join(cwd, 'package.json')]).status !== 0) { console.log('  skip: mkfifo failed'); return; }
    const r = spawnSync(FXCP, ['snap', 'list', join(t.path, 'no-store')], { cwd, encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    assert.is(r.signal, null, 'fxcp did not finish: it read the FIFO');
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, /no such store/);
  } finally {
    t.cleanup();
  }
});

test('the bundle holds yargs\' parser and none of its platform shim (y18n, cliui, string-width)', () => {
  const bundle = join(ROOT, 'build', 'fxcp-cli.cjs');
  if (!existsSync(bundle)) { console.log('  skip: no CLI bundle (built without esbuild)'); return; }
  const text = readFileSync(bundle, 'utf8');
  assert.ok(text.includes('Not enough arguments following'), 'yargs-parser is in the bundle');
  // The shim's y18n set-up and string-width's Intl.Segmenter: work at every start, for nothing.
  assert.not.ok(/updateFiles|Intl\.Segmenter/.test(text), 'yargs\' platform shim was bundled');
});

test.run();
