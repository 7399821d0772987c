// The ssh suite (`--suite ssh`, issue 24): the `series` data set's v1, then v2, sent over a
// loopback OpenSSH sshd by `fxcp snap push` (ssh2), `rsync -a` over ssh, `borg create` to an
// ssh:// repository, and the plain pipe `fxcp snap export | ssh host fxcp snap import -`. Each
// row's wire figure is the payload the client wrote into its SSH channel (before SSH's own
// encryption and framing): fxcp's own count (`bytesSent`), and for the others the bytes through
// a `dd` placed before ssh's stdin (rsync's -e, borg's BORG_RSH, the pipe). The v2 rows start
// from a server that already holds v1.
import { join } from 'node:path';
import { fmtBytes, isoNow } from './bench-measure.js';
import { log, q, readText, scanTree, sh, workDir } from './bench-proc.js';
import { missingPeers, renderRows, type Row, runRow, type SuiteEnv, verdict } from './bench-rows.js';
import { type BenchSshd, benchUserDir, startBenchSshd } from './bench-sshd.js';
import { runDirectRows, SSH_DIRECT_METHOD } from './ssh-direct-bench.js';

export const SSH_METHOD = [
  '- SSH suite (`--suite ssh`, issue 24; set series): a loopback OpenSSH sshd with a throwaway key; every tool logs in as `fxbench`, an account made for the bench with Debian\'s default shell files (root\'s ~/.bashrc on this VM runs `pyenv init`, 1-2 s a session, which added the same seconds to every row until 2026-12-06); the client side uses ssh2 for `fxcp snap push`, the system ssh for the others. Untimed setup: one store with v1 then v2 snapshotted from the same path. Timed, each from an empty server (v1 rows) or one already holding v1 (v2 rows; the untimed prepare sends v1 the same way first): `fxcp snap push STORE ssh://… --snapshot V`, `rsync -a --delete v/ host:DIR/` over ssh, `borg create --compression zstd,3 ssh://…/REPO::v` (repository made with `borg init -e none`), and `fxcp snap export STORE --snapshot V | ssh host fxcp snap import - DIR`. "sent" is the payload the client wrote into ssh (fxcp: its own `bytesSent`; others: counted by `dd` before ssh\'s stdin). MB/s = raw bytes of that version ÷ wall.',
  SSH_DIRECT_METHOD,
];

export async function runSshSuite(env: SuiteEnv): Promise<{ key: string; md: string }> {
  const missing = missingPeers(env, 'sshd', 'ssh', 'rsync');
  if (missing) throw new Error(`ssh suite: ${missing}`);
  if (process.getuid?.() !== 0) throw new Error('ssh suite: needs root (sshd)');
  const W = join(workDir(), 'run', 'ssh');
  await sh(`rm -rf ${q(W)} && mkdir -p ${q(W)}/srv ${q(W)}/count`);
  const sshd = await startBenchSshd(join(W, 'sshd'), env.peers.get('sshd')!.path!);
  try {
    return await suite(env, W, sshd);
  } finally {
    sshd.stop();
  }
}

async function suite(env: SuiteEnv, W: string, sshd: BenchSshd): Promise<{ key: string; md: string }> {
  const { ctx } = env;
  const fx = q(ctx.opts.fxcp);
  const dataDir = env.dataFor('series');
  const v = { v1: join(dataDir, 'series', 'v1'), v2: join(dataDir, 'series', 'v2') };
  const info = { v1: scanTree(v.v1), v2: scanTree(v.v2) };
  const store = join(W, 'store'), src = join(W, 'src'), srv = join(W, 'srv');
  log(`ssh: setup store with v1 and v2 (${fmtBytes(info.v1.bytes + info.v2.bytes)} raw)`);
  const ids: Record<string, string> = {};
  for (const k of ['v1', 'v2'] as const) {
    await sh(`rsync -a --delete ${q(v[k])}/ ${q(src)}/ && ${fx} snap create ${q(src)} ${q(store)} --json > ${q(join(W, `${k}.json`))}`);
    ids[k] = (JSON.parse(readText(join(W, `${k}.json`))) as { snapshot: { id: string } }).snapshot.id;
  }
  const host = sshd.login;
  benchUserDir(srv);
  const url = (dir: string) => `ssh://${host}:${sshd.port}${dir}`;
  const push = (k: string, dir: string) => `${fx} snap push ${q(store)} ${q(url(dir))} --snapshot ${ids[k]} --identity ${q(sshd.clientKey)} --known-hosts ${q(sshd.knownHosts)} --remote-fxcp ${fx} --json`;
  const counted = (name: string) => `dd bs=256k 2>${q(join(W, 'count', name))}`;
  const wrapper = join(W, 'count-ssh.sh');
  // ssh's stdin through dd, ssh exec'd in the wrapper's place: a pipeline `dd | ssh` would keep
  // the wrapper alive until dd sees its input end, which rsync closes only once ssh has exited.
  await sh(`printf '%s\\n' '#!/bin/bash' 'exec "$@" < <(dd bs=256k 2>"$FX_COUNT")' > ${q(wrapper)} && chmod +x ${q(wrapper)}`);
  const rsync = (k: string, dir: string, count?: string) => `${count ? `FX_COUNT=${q(join(W, 'count', count))} ` : ''}rsync -a --delete -e ${q(`${count ? `${wrapper} ` : ''}${sshd.ssh}`)} ${q(v[k as 'v1'])}/ ${host}:${q(dir)}/`;
  const borgAvail = missingPeers(env, 'borg');
  const borgRepo = `ssh://${host}:${sshd.port}${join(srv, 'borg')}`;
  const borg = (k: string, count?: string) => `cd ${q(v[k as 'v1'])} && ${count ? `FX_COUNT=${q(join(W, 'count', count))} ` : ''}BORG_RSH=${q(`${count ? `${wrapper} ` : ''}${sshd.ssh}`)} borg create --compression zstd,3 ${q(`${borgRepo}::${k}`)} .`;
  const borgInit = `BORG_RSH=${q(sshd.ssh)} borg init -e none ${q(borgRepo)}`;
  const pipe = (k: string, dir: string, count?: string) => `${fx} snap export ${q(store)} --snapshot ${ids[k]} | ${count ? `${counted(count)} | ` : ''}${sshd.ssh} ${host} ${q(`${fx} snap import - ${dir}`)} > /dev/null`;

  const rows: Row[] = [];
  const sent = new Map<string, number | undefined>();
  const base = { cwd: W };
  const reset = (dir: string, then = '') => async () => { await sh(`rm -rf ${q(dir)}${then ? `\n${then}` : ''}`); };
  for (const k of ['v1', 'v2'] as const) {
    const step = k === 'v1' ? 'first: v1' : 'then: v2';
    const before = (tool: string) => (k === 'v1' ? '' : tool);
    const fxDir = join(srv, 'fx'), rsDir = join(srv, 'rs'), pipeDir = join(srv, 'pipe');
    const outJson = join(W, `push-${k}.json`);
    const r1 = await runRow(ctx, rows, { ...base, row: { step, tool: 'fxcp push', command: `fxcp snap push STORE ssh://… --snapshot ${k}`, bytes: info[k].bytes }, name: `ssh-fxcp-push-${k}`,
      blocked: null, body: `${push(k, fxDir)} > ${q(outJson)}`, prep: reset(fxDir, before(`${push('v1', fxDir)} > /dev/null`)) });
    sent.set(`fx-${k}`, r1.m.state === 'ok' ? (JSON.parse(readText(outJson)) as { bytesSent: number }).bytesSent : undefined);
    const r2 = await runRow(ctx, rows, { ...base, row: { step, tool: 'rsync -a', command: `rsync -a --delete -e ssh ${k}/ host:DIR/`, bytes: info[k].bytes }, name: `ssh-rsync-${k}`,
      blocked: null, body: rsync(k, rsDir, `rs-${k}`), prep: reset(rsDir, before(rsync('v1', rsDir))) });
    sent.set(`rs-${k}`, r2.m.state === 'ok' ? await ddBytes(join(W, 'count', `rs-${k}`)) : undefined);
    const r3 = await runRow(ctx, rows, { ...base, row: { step, tool: 'borg', command: `borg create --compression zstd,3 ssh://…::${k}`, bytes: info[k].bytes }, name: `ssh-borg-${k}`,
      blocked: borgAvail, body: borg(k, `borg-${k}`), prep: reset(join(srv, 'borg'), `${borgInit}${k === 'v2' ? `\n(${borg('v1')})` : ''}`) });
    sent.set(`borg-${k}`, r3.m.state === 'ok' ? await ddBytes(join(W, 'count', `borg-${k}`)) : undefined);
    const r4 = await runRow(ctx, rows, { ...base, row: { step, tool: 'export \\| ssh import', command: `fxcp snap export STORE --snapshot ${k} \\| ssh host fxcp snap import - DIR`, bytes: info[k].bytes }, name: `ssh-pipe-${k}`,
      blocked: null, body: pipe(k, pipeDir, `pipe-${k}`), prep: reset(pipeDir, before(pipe('v1', pipeDir))) });
    sent.set(`pipe-${k}`, r4.m.state === 'ok' ? await ddBytes(join(W, 'count', `pipe-${k}`)) : undefined);
  }
  const direct = await runDirectRows(env, W, sshd, v.v1, info.v1.bytes);
  const keyOf: Record<string, string> = { 'fxcp push': 'fx', 'rsync -a': 'rs', borg: 'borg', 'export \\| ssh import': 'pipe' };
  for (const r of rows) {
    const k = r.step.endsWith('v1') ? 'v1' : 'v2';
    const b = sent.get(`${keyOf[r.tool]}-${k}`);
    r.out = b;
    r.extra = b === undefined ? '' : `${((b / info[k].bytes) * 100).toFixed(2)} % of ${k}`;
  }
  const row = (tool: string, k: string) => rows.find((r) => r.tool === tool && r.step.endsWith(k));
  const secs = (r: Row | undefined) => (r?.m.state === 'ok' ? r.m.secs : undefined);
  const fx2 = sent.get('fx-v2');
  const smallOk = fx2 === undefined ? undefined : fx2 < 0.05 * info.v2.bytes;
  const fasterOk = secs(row('fxcp push', 'v2')) !== undefined && secs(row('rsync -a', 'v2')) !== undefined ? secs(row('fxcp push', 'v2'))! < secs(row('rsync -a', 'v2'))! : undefined;
  const [p1, e1] = [secs(row('fxcp push', 'v1')), secs(row('export \\| ssh import', 'v1'))];
  const thrOk = p1 !== undefined && e1 !== undefined ? e1 / p1 >= 0.8 : undefined;
  const runs = ctx.opts.runs;
  const L = [
    `### ssh: series over loopback SSH (factor ${ctx.opts.factor})`, '',
    `${isoNow()}, median of ${runs} run${runs > 1 ? 's' : ''} (min–max). v1: ${info.v1.files} files, ${fmtBytes(info.v1.bytes)}; v2: ${info.v2.files} files, ${fmtBytes(info.v2.bytes)}. One machine is both ends: the figures include the server's work.`, '',
    ...renderRows(rows, { mbLabel: 'MB/s (raw ÷ wall)', outLabel: 'sent (payload)', extraLabel: 'sent ÷ raw' }), '',
    'Targets (issue 24):', '',
    `- v2 push sends under 5 % of v2's bytes: ${fx2 !== undefined ? `${fmtBytes(fx2)}, ${((fx2 / info.v2.bytes) * 100).toFixed(2)} %: ` : ''}${verdict(smallOk)}`,
    `- v2 push faster than rsync's v2 transfer: ${verdict(fasterOk)}`,
    `- first push at least 80 % of the throughput of export | ssh import: ${p1 !== undefined && e1 !== undefined ? `${((e1 / p1) * 100).toFixed(0)} %: ` : ''}${verdict(thrOk)}`,
    ...direct,
    '',
  ];
  return { key: `ssh:series@${ctx.opts.factor}`, md: L.join('\n') };
}

/**
 * The byte count `dd` printed at its end ("N bytes (...) copied"), or undefined. The wrapper's
 * dd ends after the step (its input closes when the tool exits): waited for, up to 10 s.
 */
async function ddBytes(file: string): Promise<number | undefined> {
  for (let i = 0; i < 100; i++) {
    const m = /^(\d+) bytes/m.exec(readText(file));
    if (m) return Number(m[1]);
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}
