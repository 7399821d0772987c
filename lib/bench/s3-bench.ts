// The S3 suite (`--suite s3`, issue 26): fxcp's store in a bucket of a throwaway single-node
// Ceph (test/setup/ceph-up.sh: one mon, one memstore osd, radosgw on 127.0.0.1, all on this
// machine's cores), against the raw S3 rate of the same cluster in the same run, and restic
// (which speaks S3) against the same cluster. Rates are bytes over wall time; figures of one
// run, not medians, except the one-file restores (median of 5). memstore holds every object in
// RAM at about twice its size: the data set is the run's `mixed` (200 MiB at --factor 0.1).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { S3Client, type S3Settings } from '../store/index.js';
import { packageRoot } from '../util/package-paths.js';
import { isoNow } from './bench-measure.js';
import { listFiles, log, stopOnSignal, workDir } from './bench-proc.js';
import type { SuiteEnv } from './bench-rows.js';

export const S3_METHOD = [
  '- S3 suite (`--suite s3`, issue 26): a single-node Ceph Pacific (one mon, one memstore osd, radosgw/beast on 127.0.0.1, started by `test/setup/ceph-up.sh`) on the same 2 cores as the client. Raw rates: 12 objects of 16 MiB, 4 requests in flight, with fxcp\'s own S3 client. Snapshot and restore rates are stored bytes over wall time, beside the same first snapshot and full restore with a local store (on cores the cluster shares, those bound the S3 rates). restic (the Debian package) runs against the same cluster (`-r s3:http://...`, its default compression). One run per row, one-file restores the median of 5, beside the median of 5 runs of `node -e 0` in the same minute (Node starting alone).',
];

const MiB = 1024 * 1024;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

interface Cluster { dir: string; env: Record<string, string>; settings: S3Settings; endpoint: string }

async function startCluster(dir: string): Promise<Cluster> {
  rmSync(dir, { recursive: true, force: true });
  const r = spawnSync(join(packageRoot, 'test', 'setup', 'ceph-up.sh'), [dir, String(await freePort()), String(await freePort())], { encoding: 'utf8', env: { ...process.env, CEPH_OSD_BYTES: String(3 << 30) } });
  if (r.status !== 0) throw new Error(`the Ceph cluster did not start: ${(r.stderr || '').trim().split('\n').pop()}`);
  const v = Object.fromEntries(readFileSync(join(dir, 's3.env'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const settings: S3Settings = { endpoint: v.S3_ENDPOINT!, region: 'us-east-1', pathStyle: true, credentials: { accessKeyId: v.AWS_ACCESS_KEY_ID!, secretAccessKey: v.AWS_SECRET_ACCESS_KEY! }, retryMs: 30_000, timeoutMs: 30_000 };
  const env = { AWS_ENDPOINT_URL: v.S3_ENDPOINT!, AWS_ACCESS_KEY_ID: v.AWS_ACCESS_KEY_ID!, AWS_SECRET_ACCESS_KEY: v.AWS_SECRET_ACCESS_KEY!, AWS_REGION: 'us-east-1' };
  return { dir, env, settings, endpoint: v.S3_ENDPOINT! };
}

async function pool(n: number, conc: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: conc }, async () => { while (next < n) await fn(next++); }));
}

/** Raw PUT and GET rates (MiB/s) of 16 MiB objects, 4 in flight. */
async function rawRates(c: Cluster): Promise<{ put: number; get: number }> {
  const client = new S3Client(c.settings);
  try {
    await client.send({ method: 'PUT', bucket: 'raw' });
    const body = Buffer.alloc(16 * MiB);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
    const n = 12;
    let t = performance.now();
    await pool(n, 4, async (i) => { await client.send({ method: 'PUT', bucket: 'raw', key: `o${i}`, body }); });
    const put = (n * 16) / ((performance.now() - t) / 1000);
    t = performance.now();
    await pool(n, 4, async (i) => { await client.send({ method: 'GET', bucket: 'raw', key: `o${i}` }); });
    const get = (n * 16) / ((performance.now() - t) / 1000);
    await pool(n, 4, async (i) => { await client.send({ method: 'DELETE', bucket: 'raw', key: `o${i}` }); });
    return { put, get };
  } finally {
    client.close();
  }
}

interface Timed { secs: number; stdout: string; stderr: string }

function run(cmd: string, args: string[], env: Record<string, string>): Timed {
  const t = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * MiB });
  const secs = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${(r.stderr || '').trim().split('\n').pop()}`);
  return { secs, stdout: r.stdout, stderr: r.stderr };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function runS3Suite(env: SuiteEnv): Promise<{ key: string; md: string }> {
  const fxcp = env.ctx.opts.fxcp;
  const data = join(env.dataFor('mixed'), 'mixed');
  const files = listFiles(data);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const oneFile = files.reduce((a, b) => (Math.abs(b.size - 65536) < Math.abs(a.size - 65536) ? b : a)).rel;
  const W = join(workDir(), 's3');
  rmSync(W, { recursive: true, force: true });
  mkdirSync(W, { recursive: true });
  const c = await startCluster(join(W, 'ceph'));
  const clusterDown = () => spawnSync(join(packageRoot, 'test', 'setup', 'ceph-down.sh'), [c.dir], { stdio: 'ignore' });
  const forget = stopOnSignal(clusterDown);
  const e = { ...c.env, XDG_CACHE_HOME: join(W, 'cache'), RESTIC_PASSWORD: 'bench' };
  const rows: string[] = [];
  const load = loadavg()[0]!.toFixed(1);
  const rate = (b: number, s: number) => `${(b / MiB / s).toFixed(0)} MiB/s`;
  try {
    const raw = await rawRates(c);
    log(`s3: raw PUT ${raw.put.toFixed(0)} MiB/s, GET ${raw.get.toFixed(0)} MiB/s`);
    rows.push(`| raw S3, 16 MiB objects, 4 in flight | PUT | ${raw.put.toFixed(0)} MiB/s | | |`, `| | GET | ${raw.get.toFixed(0)} MiB/s | | |`);

    run(fxcp, ['store', 'init', 's3://bench/mixed', '--create-bucket'], e);
    const first = run(fxcp, ['snap', 'create', data, 's3://bench/mixed', '--json'], e);
    const stored = Number(JSON.parse(first.stdout).snapshot.stats.storedBytes);
    // The same steps into and from a local store, beside: on these shared cores they bound the S3 rates.
    const local = join(W, 'local');
    const firstLocal = run(fxcp, ['snap', 'create', data, local], e);
    rows.push(`| fxcp snap create (first) | ${first.secs.toFixed(2)} s | ${rate(stored, first.secs)} stored; local store: ${firstLocal.secs.toFixed(2)} s (${(first.secs / firstLocal.secs).toFixed(2)}x) | ${((stored / MiB / first.secs) / raw.put * 100).toFixed(0)} % of raw PUT | target 80 % |`);
    const second = run(fxcp, ['snap', 'create', data, 's3://bench/mixed'], e);
    const secondLocal = run(fxcp, ['snap', 'create', data, local], e);
    rows.push(`| fxcp snap create (unchanged) | ${second.secs.toFixed(2)} s | local store: ${secondLocal.secs.toFixed(2)} s | ${(second.secs / secondLocal.secs).toFixed(2)}x local | target 2x |`);
    const out = join(W, 'out');
    const full = run(fxcp, ['snap', 'restore', 's3://bench/mixed', '-o', out], e);
    rmSync(out, { recursive: true, force: true });
    const fullLocal = run(fxcp, ['snap', 'restore', local, '-o', out], e);
    rmSync(out, { recursive: true, force: true });
    rows.push(`| fxcp snap restore (all) | ${full.secs.toFixed(2)} s | ${rate(stored, full.secs)} stored; local store: ${fullLocal.secs.toFixed(2)} s (${(full.secs / fullLocal.secs).toFixed(2)}x) | ${((stored / MiB / full.secs) / raw.get * 100).toFixed(0)} % of raw GET | target 80 % |`);
    const one = (from: string) => {
      const times: number[] = [];
      let note = '';
      for (let i = 0; i < 5; i++) {
        rmSync(out, { recursive: true, force: true });
        const r = run(fxcp, ['snap', 'restore', from, '-o', out, '--file', oneFile], e);
        times.push(r.secs);
        note = /fetched [^\n]*/.exec(r.stderr)?.[0] ?? '';
      }
      rmSync(out, { recursive: true, force: true });
      return { ms: median(times) * 1000, note };
    };
    // Node starting alone, in the same minute: on a loaded machine most of a one-file restore.
    const alone: number[] = [];
    for (let i = 0; i < 5; i++) alone.push(run(process.execPath, ['-e', '0'], {}).secs);
    rows.push(`| node -e 0 (Node starting alone) | ${(median(alone) * 1000).toFixed(0)} ms | what the one-file rows below spend before fxcp runs | | |`);
    const fromStore = one('s3://bench/mixed');
    rows.push(`| fxcp snap restore --file (store) | ${fromStore.ms.toFixed(0)} ms | ${fromStore.note || '-'} | | target 300 ms |`);
    const ex = run(fxcp, ['snap', 'export', 's3://bench/mixed', '-o', 's3://bench/archives/mixed.fxar', '--latest'], e);
    rows.push(`| fxcp snap export -o s3:// | ${ex.secs.toFixed(2)} s | ${rate(stored, ex.secs)} | | |`);
    const fromArchive = one('s3://bench/archives/mixed.fxar');
    rows.push(`| fxcp snap restore --file (FXAR in the bucket) | ${fromArchive.ms.toFixed(0)} ms | ${fromArchive.note} | | target 300 ms |`);

    const repo = ['-r', `s3:${c.endpoint}/restic`];
    if (spawnSync('sh', ['-c', 'command -v restic']).status === 0) {
      run('restic', [...repo, 'init'], e);
      const rf = run('restic', [...repo, 'backup', '--quiet', data], e);
      const rs = run('restic', [...repo, 'backup', '--quiet', data], e);
      const rtimes: number[] = [];
      for (let i = 0; i < 5; i++) {
        rmSync(out, { recursive: true, force: true });
        rtimes.push(run('restic', [...repo, 'restore', 'latest', '--target', out, '--include', join(data, oneFile)], e).secs);
      }
      rmSync(out, { recursive: true, force: true });
      rows.push(`| restic backup (first) | ${rf.secs.toFixed(2)} s | ${rate(bytes, rf.secs)} of source | | |`,
        `| restic backup (unchanged) | ${rs.secs.toFixed(2)} s | | | |`,
        `| restic restore --include (one file) | ${(median(rtimes) * 1000).toFixed(0)} ms | | | |`);
    } else {
      rows.push('| restic | not installed | | | |');
    }
  } finally {
    forget();
    clusterDown();
    rmSync(W, { recursive: true, force: true });
  }
  const md = [
    '### S3 store on a local Ceph radosgw (memstore)', '',
    `${isoNow()}; data: mixed (${files.length} files, ${(bytes / MiB).toFixed(0)} MiB); one file: ${oneFile}. The cluster runs on the same 2 cores as the client, on a machine shared with other work (load average ${load} at the start): compare the rows with each other, not with other runs.`, '',
    '| step | time | rate / detail | ratio | target |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  return { key: 's3:mixed@1', md };
}
