// The ssh suite's direct rows (issue 24): a store on the server used directly, `fxcp snap create
// SRC ssh://…` (first, then unchanged) and `fxcp snap restore ssh://…` (all, one file), beside
// restic with an sftp: repository doing the same through the same loopback sshd. fxcp logs in
// with ssh2 (its default: the host, key and known_hosts from a ~/.ssh/config made for the run);
// restic runs the system ssh (`-o sftp.command`). Each tool's client cache starts empty for the
// first create and is kept after (as on a machine that backs up every day).
import { join } from 'node:path';
import { log, q, sh, shOut } from './bench-proc.js';
import { missingPeers, renderRows, type Row, runRow, type SuiteEnv, verdict } from './bench-rows.js';
import { BENCH_USER, type BenchSshd } from './bench-sshd.js';

export const SSH_DIRECT_METHOD =
  '- SSH suite, direct rows (a store used on the server directly): `fxcp snap create v1 ssh://…` into an empty directory, then again with nothing changed, then `fxcp snap restore ssh://… --latest` (all, and `--file` of the largest file); beside `restic -r sftp:…` (`init` untimed, `backup`, `backup` again, `restore latest`, `restore latest --include` of the same file; the system ssh through `-o sftp.command`, a password as restic requires, so encrypted). fxcp logs in with ssh2 from a ~/.ssh/config written for the run. Each tool\'s client cache is emptied before the first create only.';

export async function runDirectRows(env: SuiteEnv, W: string, sshd: BenchSshd, v1: string, v1Bytes: number): Promise<string[]> {
  const fx = q(env.ctx.opts.fxcp);
  const home = join(W, 'home'), srv = join(W, 'srv'), out = join(W, 'direct-out');
  await sh(`mkdir -p ${q(home)}/.ssh && cp ${q(sshd.knownHosts)} ${q(home)}/.ssh/known_hosts && printf '%s\\n' 'Host bench' '  HostName 127.0.0.1' '  Port ${sshd.port}' '  User ${BENCH_USER}' '  IdentityFile ${sshd.clientKey}' > ${q(home)}/.ssh/config`);
  const store = `ssh://bench${join(srv, 'direct')}`;
  const fxEnv = `HOME=${q(home)} XDG_CACHE_HOME=${q(join(home, '.cache'))} SSH_AUTH_SOCK= FOXING_REMOTE_FXCP=${fx}`;
  const create = `${fxEnv} ${fx} snap create ${q(v1)} ${q(store)} > /dev/null`;
  const sftp = `${sshd.ssh} ${sshd.login} -s sftp`;
  const repo = `sftp:${sshd.login}:${join(srv, 'restic')}`;
  const restic = (args: string) => `RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=${q(join(W, 'restic-cache'))} restic -q -r ${q(repo)} -o ${q(`sftp.command=${sftp}`)} ${args}`;
  const resticBlocked = missingPeers(env, 'restic');
  // The largest file of v1: what a one-file restore fetches.
  const one = (await shOut(`find . -type f -printf '%s %P\\n' | sort -n | tail -1 | cut -d' ' -f2-`, v1)).trim();
  log(`ssh: direct rows (one file: ${one})`);
  const rows: Row[] = [];
  const base = { cwd: W };
  const empty = async () => { await sh(`rm -rf ${q(join(srv, 'direct'))} ${q(join(home, '.cache'))}`); };
  const resticInit = async () => {
    await sh(`rm -rf ${q(join(srv, 'restic'))} ${q(join(W, 'restic-cache'))}`);
    if (!resticBlocked) await sh(`${restic('init')} > /dev/null`, W);
  };
  const row = (step: string, tool: string, command: string, bytes?: number) => ({ step, tool, command, bytes });
  await runRow(env.ctx, rows, { ...base, row: row('direct: first create', 'fxcp', 'fxcp snap create v1 ssh://…', v1Bytes), name: 'ssh-direct-create-fxcp', blocked: null, body: create, prep: empty });
  await runRow(env.ctx, rows, { ...base, row: row('direct: first create', 'restic', 'restic -r sftp:… backup .', v1Bytes), name: 'ssh-direct-create-restic', blocked: resticBlocked,
    body: `cd ${q(v1)} && ${restic('backup .')} > /dev/null`, prep: resticInit });
  await runRow(env.ctx, rows, { ...base, row: row('direct: unchanged', 'fxcp', 'fxcp snap create v1 ssh://… (again)', v1Bytes), name: 'ssh-direct-again-fxcp', blocked: null, body: create,
    prep: async () => { await empty(); await sh(create); } });
  await runRow(env.ctx, rows, { ...base, row: row('direct: unchanged', 'restic', 'restic -r sftp:… backup . (again)', v1Bytes), name: 'ssh-direct-again-restic', blocked: resticBlocked,
    body: `cd ${q(v1)} && ${restic('backup .')} > /dev/null`, prep: async () => { await resticInit(); if (!resticBlocked) await sh(`cd ${q(v1)} && ${restic('backup .')} > /dev/null`); } });
  // Both repositories hold v1 now (left by the rows above).
  const clean = async () => { await sh(`rm -rf ${q(out)}`); };
  await runRow(env.ctx, rows, { ...base, row: row('direct: restore all', 'fxcp', 'fxcp snap restore ssh://… --latest -o DIR', v1Bytes), name: 'ssh-direct-restore-fxcp', blocked: null,
    body: `${fxEnv} ${fx} snap restore ${q(store)} --latest -o ${q(out)} > /dev/null`, prep: clean });
  await runRow(env.ctx, rows, { ...base, row: row('direct: restore all', 'restic', 'restic -r sftp:… restore latest --target DIR', v1Bytes), name: 'ssh-direct-restore-restic', blocked: resticBlocked,
    body: restic(`restore latest --target ${q(out)}`), prep: clean });
  await runRow(env.ctx, rows, { ...base, row: row('direct: restore one file', 'fxcp', 'fxcp snap restore ssh://… --latest --file F -o DIR'), name: 'ssh-direct-one-fxcp', blocked: null,
    body: `${fxEnv} ${fx} snap restore ${q(store)} --latest --file ${q(one)} -o ${q(out)} > /dev/null`, prep: clean,
    verify: { want: join(v1, one), got: join(out, one), shown: one } });
  await runRow(env.ctx, rows, { ...base, row: row('direct: restore one file', 'restic', 'restic -r sftp:… restore latest --include F --target DIR'), name: 'ssh-direct-one-restic', blocked: resticBlocked,
    body: restic(`restore latest --include ${q(one.split('/').pop()!)} --target ${q(out)}`), prep: clean });
  const secs = (tool: string, step: string) => { const r = rows.find((x) => x.tool === tool && x.step === step); return r?.m.state === 'ok' ? r.m.secs : undefined; };
  const beats = (step: string) => {
    const [f, r] = [secs('fxcp', step), secs('restic', step)];
    return f !== undefined && r !== undefined ? f <= r : undefined;
  };
  return [
    '', 'A store used on the server directly (`ssh://host/path` as the STORE), beside restic\'s sftp: backend:', '',
    ...renderRows(rows, { mbLabel: 'MB/s (raw ÷ wall)', outLabel: 'out' }), '',
    'Our own bar for direct use, beyond the list of issue 24 (which names create and a `--file` restore): at least as fast as restic over sftp on the same sshd:', '',
    ...['direct: first create', 'direct: unchanged', 'direct: restore all', 'direct: restore one file'].map((s) => `- ${s.slice(8)}: ${verdict(beats(s))}`),
  ];
}
