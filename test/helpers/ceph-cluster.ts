/**
 * A throwaway single-node Ceph with a radosgw S3 endpoint on 127.0.0.1, for the tests that need
 * a real object store: test/setup/ceph-up.sh starts it in a temporary directory on free ports,
 * `stop()` (test/setup/ceph-down.sh) stops exactly its daemons and removes the directory. One
 * cluster per test file: starting one takes about 2-4 s. A process exit stops it too, so a test
 * file that throws or is interrupted leaves no daemons behind.
 *
 * Where the Ceph packages are missing (test/setup/install-test-tools.sh installs them as root)
 * or the cluster does not come up, `startCeph` returns the reason to print as a skip.
 * Memstore keeps objects in RAM at about twice their size: tests keep their data small.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './run-cli.js';

const SETUP = join(ROOT, 'test', 'setup');

export interface CephCluster {
  /** http://127.0.0.1:PORT (https with `tls`). */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** The environment a child fxcp needs to reach the cluster (AWS_* variables). */
  env: Record<string, string>;
  dir: string;
  /** Stops radosgw only (a failure in mid-operation); `startGateway` brings it back. */
  stopGateway(): void;
  startGateway(): void;
  stop(): void;
}

/** A free TCP port on 127.0.0.1 (bound and released; the cluster binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const live = new Set<CephCluster>();
let exitHook = false;

export async function startCeph(opts: { tls?: { cert: string; key: string } } = {}): Promise<CephCluster | string> {
  if (spawnSync('sh', ['-c', 'command -v ceph-mon ceph-osd radosgw ceph-authtool']).status !== 0) {
    return 'Ceph is not installed (ceph-mon ceph-osd radosgw ceph-common; test/setup/install-test-tools.sh installs them as root)';
  }
  const dir = mkdtempSync(join(tmpdir(), 'fx-ceph-'));
  const [rgw, mon] = [await freePort(), await freePort()];
  const args = [dir, String(rgw), String(mon), ...(opts.tls ? [opts.tls.cert, opts.tls.key] : [])];
  const r = spawnSync(join(SETUP, 'ceph-up.sh'), args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop();
    rmSync(dir, { recursive: true, force: true });
    return `the Ceph cluster did not start: ${why}`;
  }
  const vars = Object.fromEntries(readFileSync(join(dir, 's3.env'), 'utf8').trim().split('\n').map((l) => {
    const i = l.indexOf('=');
    return [l.slice(0, i), l.slice(i + 1)];
  }));
  const conf = join(dir, 'ceph.conf');
  const rgwPid = () => readFileSync(join(dir, 'run', 'ceph-client.rgw.a.pid'), 'utf8').trim();
  const cluster: CephCluster = {
    endpoint: vars.S3_ENDPOINT!, accessKey: vars.AWS_ACCESS_KEY_ID!, secretKey: vars.AWS_SECRET_ACCESS_KEY!, dir,
    env: { AWS_ENDPOINT_URL: vars.S3_ENDPOINT!, AWS_ACCESS_KEY_ID: vars.AWS_ACCESS_KEY_ID!, AWS_SECRET_ACCESS_KEY: vars.AWS_SECRET_ACCESS_KEY!, AWS_REGION: 'us-east-1' },
    stopGateway: () => {
      const pid = Number(rgwPid());
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      for (let i = 0; i < 100; i++) {
        try { process.kill(pid, 0); } catch { break; }
        execFileSync('sleep', ['0.05']);
      }
    },
    startGateway: () => {
      execFileSync('radosgw', ['-c', conf, '-n', 'client.rgw.a'], { stdio: 'ignore' });
      for (let i = 0; i < 200; i++) {
        if (spawnSync('curl', ['-fsS', '-k', '-o', '/dev/null', `${vars.S3_ENDPOINT}/`]).status === 0) return;
        execFileSync('sleep', ['0.1']);
      }
      throw new Error(`radosgw did not answer again at ${vars.S3_ENDPOINT}`);
    },
    stop: () => {
      if (!live.delete(cluster)) return;
      spawnSync(join(SETUP, 'ceph-down.sh'), [dir], { stdio: 'ignore', timeout: 60_000 });
    },
  };
  live.add(cluster);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => { for (const c of [...live]) c.stop(); });
  }
  return cluster;
}
