// foxingd's configuration (lib/daemon/daemon-config.ts): a sound file gives its sources,
// targets, stores, intervals and excludes; each problem has its line and, for an unknown key
// or section, the nearest known name (the reference's example used a section name its parser
// ignored); a feature this build lacks is refused, not ignored; TOML syntax errors have their
// line; checkPaths finds sources that are no directories, mirrors and stores inside their
// source, and a mirror named twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkPaths, parseDaemonConfig, SCHEMA } from '../../lib/daemon/daemon-config.js';
import { ROOT } from '../helpers/run-cli.js';

const SOUND = `worker_count = 2
events = "inotify"
[[sources]]
path = "/data"
store = "/backup/store"
snapshot_interval = "5m"
exclude = ["*.tmp", "cache/"]
  [[sources.targets]]
  path = "/mirror/a"
  [[sources.targets]]
  path = "/mirror/b"
[[sources]]
path = "/other"
snapshot_interval = 30
store = "/backup/store"
`;

test('a sound configuration', () => {
  const { config, problems } = parseDaemonConfig(SOUND);
  assert.equal(problems, []);
  assert.equal(config, {
    workerCount: 2, queueMax: 100_000, events: 'inotify', metrics: '127.0.0.1:9100', statusSocket: null,
    sources: [
      { path: '/data', store: '/backup/store', snapshotIntervalS: 300, exclude: ['*.tmp', 'cache/'], targets: [{ path: '/mirror/a', versions: null }, { path: '/mirror/b', versions: null }] },
      { path: '/other', store: '/backup/store', snapshotIntervalS: 30, exclude: [], targets: [] },
    ],
  });
});

test('problems name their line; unknown keys and sections the nearest known name', () => {
  const text = `queue_mx = 5000
events = "kqueue"
[[source]]
path = "/x"
[[sources]]
path = "relative"
snapshot_interval = "soon"
  [[sources.target]]
  path = "/m"
[[sources]]
path = "/y"
  [[sources.targets]]
  path = "/z"
  max_versions = 0
  [[sources.targets]]
  path = "/w"
  max_versions_size_mb = 10
`;
  const { problems } = parseDaemonConfig(text);
  const shown = problems.map((p) => `${p.line}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`);
  for (const expected of [/^1: unknown key 'queue_mx' \(did you mean 'queue_max'\?\)$/, /^2: events: auto, fanotify or inotify, not "kqueue"$/,
    /^3: unknown key 'source' \(did you mean 'sources'\?\)$/, /^6: path in sources\[0\]: an absolute path, not "relative"$/,
    /^7: snapshot_interval in sources\[0\]: seconds above 0/, /^8: unknown key 'target' in sources\[0\] \(did you mean 'targets'\?\)$/,
    /^14: max_versions in sources\[1\]\.targets\[0\]: at least 1$/,
    /^17: max_versions_size_mb in sources\[1\]\.targets\[1\]: has no effect without enable_versioning \(add enable_versioning = true, or remove it\)$/]) {
    assert.ok(shown.some((s) => expected.test(s)), `${expected}: ${shown.join(' | ')}`);
  }
});

test('TOML syntax errors have their line; no sources is a problem', () => {
  const { problems } = parseDaemonConfig('a = 1\nb = = 2\nc = 3\n');
  assert.is(problems.length, 1);
  assert.match(problems[0].message, /not valid TOML/);
  assert.is(problems[0].line, 2);
  assert.match(parseDaemonConfig('events = "auto"\n').problems[0].message, /no \[\[sources\]\]/);
  assert.match(parseDaemonConfig('[sources]\npath = "/x"\n').problems[0].message, /write \[\[…\]\] \(two brackets\)/);
});

test('checkPaths: a source that is no directory, a mirror or store inside its source, a mirror named twice', () => {
  const text = `[[sources]]
path = "/data"
store = "/data/.store"
  [[sources.targets]]
  path = "/data/mirror"
  [[sources.targets]]
  path = "/m"
[[sources]]
path = "/file"
  [[sources.targets]]
  path = "/m"
`;
  const { config, problems } = parseDaemonConfig(text);
  assert.equal(problems, []);
  const found = checkPaths(config!, text, { kind: (p) => (p === '/file' ? 'other' : p === '/data' ? 'dir' : null), real: (p) => p })
    .map((p) => `${p.line}: ${p.message}`);
  assert.equal(found, [
    '5: sources[0].targets[0]: /data/mirror and the source /data lie inside one another',
    '3: sources[0].store: /data/.store and the source /data lie inside one another',
    '9: sources[1]: /file: not a directory',
    '11: sources[1].targets[0]: /m is also sources[0].targets[1]',
  ]);
});

test('the schema that explain prints is the one parsing reads', () => {
  assert.equal(Object.keys(SCHEMA.top).sort(), ['events', 'metrics', 'queue_max', 'sources', 'status_socket', 'worker_count']);
  assert.is(parseDaemonConfig('metrics = ""\n[[sources]]\npath = "/x"\nstore = "/s"\n').config!.metrics, null);
  assert.match(parseDaemonConfig('metrics = "9100"\n[[sources]]\npath = "/x"\nstore = "/s"\n').problems[0].message, /HOST:PORT/);
  // A store in a bucket is taken as it is (checkPaths has nothing to look at); a bad one is named.
  const s3 = parseDaemonConfig('[[sources]]\npath = "/x"\nstore = "s3://backups/host1"\n');
  assert.equal(s3.problems, []);
  assert.is(s3.config!.sources[0].store, 's3://backups/host1');
  assert.match(parseDaemonConfig('[[sources]]\npath = "/x"\nstore = "s3://B/x"\n').problems[0].message, /^store in sources\[0\]: s3:\/\/B\/x: not an S3 location/);
  assert.match(parseDaemonConfig('[[sources]]\npath = "/x"\nstore = "backup"\n').problems[0].message, /an absolute path or s3:\/\/BUCKET\/PREFIX, not "backup"/);
  const versioned = parseDaemonConfig('[[sources]]\npath = "/x"\n  [[sources.targets]]\n  path = "/m"\n  enable_versioning = true\n  max_versions_size_mb = 0.5\n  [[sources.targets]]\n  path = "/n"\n');
  assert.equal(versioned.problems, []);
  assert.equal(versioned.config!.sources[0].targets.map((t) => t.versions), [{ maxVersions: 10, maxBytes: 512 * 1024 }, null]);
});

test('the sample configuration in docs/ is sound', () => {
  const text = readFileSync(join(ROOT, 'docs', 'foxingd.toml'), 'utf8');
  const { config, problems } = parseDaemonConfig(text);
  assert.equal(problems, []);
  assert.is(config!.sources.length, 2);
  assert.is(config!.sources[0].targets.length, 2);
  assert.match(readFileSync(join(ROOT, 'docs', 'foxingd.service'), 'utf8'), /^Type=notify$/m);
});

test.run();
