/**
 * Storage faults under the store's own commands, in process (no CLI): snapshot create, prune,
 * gc, check --read-data and repair each run on a FaultyStorage (test/helpers/faulty-storage.ts)
 * over the store directory. A clean run first counts the blob operations the command makes;
 * then the command runs again on a fresh copy of the store once per fault: the first and the
 * last of each kind of operation (write, fsync, rename, read, short read, remove) on each kind
 * of blob. Each fault must give one clear ToolkitError line (or, where the command has a
 * documented way around it, that way's warning), and afterwards the store must check clean
 * with every chunk read, have no temporary blob left in tmp/, and restore every snapshot it
 * still lists exactly as it did before.
 *
 * What faults reach: only blobs the main thread handles. Snapshot create writes its tree pack
 * and its record there and reads the parent's trees; its data packs are written by the chunk
 * workers through their own FsStorage (lib/store/worker-packer.ts) and are not faulted. Prune
 * removes records and then runs gc; gc reads trailers and records, repacks (writes) and removes
 * packs; check --read-data reads trailers and records, but packs with a local path are
 * verified by its workers by path (lib/snapshot/store-check.ts), so only its reads of trees
 * and trailers are faulted; repair reads, rewrites and removes packs.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCodec } from '../../lib/codec/codec.js';
import { ToolkitError } from '../../lib/errors/index.js';
import { archive } from '../../lib/snapshot/archiver.js';
import { collectGarbage } from '../../lib/snapshot/garbage-collect.js';
import { prune } from '../../lib/snapshot/prune.js';
import { restore } from '../../lib/snapshot/restorer.js';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import { type CheckResult, checkStore } from '../../lib/snapshot/store-check.js';
import { repairStore } from '../../lib/snapshot/store-repair.js';
import type { Store } from '../../lib/store/chunk-store.js';
import { FsStorage } from '../../lib/store/fs-storage.js';
import type { Warn } from '../../lib/errors/index.js';
import { type Fault, type FaultOp, FaultyStorage } from '../helpers/faulty-storage.js';
import { openStoreWith } from '../helpers/open-store-with.js';
import { tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';

const FAULT_OPS: FaultOp[] = ['write', 'fsync', 'rename', 'read', 'short-read', 'remove'];
const codec = parseCodec('zstd');

interface Fixture {
  dir: string;
  src: string;
  /** The store after two snapshots of src (v1, then v2 with one file gone, one changed, one added); src is then changed again (v3). */
  store: string;
  /** What each snapshot restored to when the store was known good. */
  golden: Map<string, string>;
}

let t: ReturnType<typeof tempDir>;
let fx: Fixture;
let scenarioNo = 0;

async function withStore<T>(root: string, storage: FsStorage | FaultyStorage, fn: (s: Store, warnings: string[]) => Promise<T>): Promise<T> {
  const warnings: string[] = [];
  const onWarn: Warn = (code, message) => { warnings.push(`${code}: ${message}`); };
  const s = await openStoreWith(root, storage, { onWarn });
  try { return await fn(s, warnings); } finally { await s.close(); }
}

const quiet: Warn = () => {};

async function snapshot(store: Store, src: string, onWarn: Warn = quiet): Promise<string> {
  return (await archive(store, { source: src, codec, onWarn })).id;
}

async function restoreTo(store: Store, id: string, target: string): Promise<void> {
  const snap = listSnapshots(store).find((s) => s.id === id);
  assert.ok(snap, `snapshot ${id} is listed`);
  const r = await restore(store, snap.record, { target, onWarn: quiet });
  assert.equal(r.problems, [], `restore of ${id}`);
}

async function buildFixture(): Promise<Fixture> {
  const dir = t.path;
  const src = join(dir, 'src'), store = join(dir, 'store');
  mkdirSync(join(src, 'sub'), { recursive: true });
  // Files over the restorer's worker size, small ones, and a directory: data packs, tree packs.
  for (let i = 0; i < 4; i++) writeFileSync(join(src, `f${i}.bin`), seededBytes(200_000 + i * 50_000, i + 1));
  for (let i = 0; i < 8; i++) writeFileSync(join(src, 'sub', `s${i}.txt`), `small file ${i}\n`.repeat(i + 1));
  const golden = new Map<string, string>();
  await withStore(store, new FsStorage(store), async (s) => {
    const v1 = await snapshot(s, src);
    await restoreTo(s, v1, join(dir, 'golden-v1'));
    assert.equal(compareTrees(src, join(dir, 'golden-v1'), { rootMeta: false }), []);
    golden.set(v1, join(dir, 'golden-v1'));
    unlinkSync(join(src, 'f0.bin'));
    writeFileSync(join(src, 'f1.bin'), seededBytes(120_000, 99));
    writeFileSync(join(src, 'sub', 'new.txt'), 'new in v2\n');
    const v2 = await snapshot(s, src);
    await restoreTo(s, v2, join(dir, 'golden-v2'));
    assert.equal(compareTrees(src, join(dir, 'golden-v2'), { rootMeta: false }), []);
    golden.set(v2, join(dir, 'golden-v2'));
  });
  writeFileSync(join(src, 'f2.bin'), seededBytes(90_000, 123));
  writeFileSync(join(src, 'sub', 'v3.txt'), 'new in v3\n');
  return { dir, src, store, golden };
}

/** A fresh copy of the fixture's store, with `prepare` applied on a good storage. */
async function storeCopy(prepare?: (s: Store) => Promise<void>): Promise<string> {
  const root = join(fx.dir, `scenario-${++scenarioNo}`);
  cpSync(fx.store, root, { recursive: true });
  if (prepare) await withStore(root, new FsStorage(root), (s) => prepare(s));
  return root;
}

/** Flips a byte inside the trailer checksum of the store's biggest pack: repair rebuilds it, losing nothing. */
function damageTrailer(root: string): void {
  const packs: string[] = [];
  for (const fan of readdirSync(join(root, 'packs'))) for (const f of readdirSync(join(root, 'packs', fan))) packs.push(join(root, 'packs', fan, f));
  const biggest = packs.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  const b = readFileSync(biggest);
  b[b.length - 20] ^= 0x10;
  chmodSync(biggest, 0o644);
  writeFileSync(biggest, b);
  chmodSync(biggest, 0o444);
}

interface Outcome { error: unknown; warnings: string[]; injected: string[]; result: unknown }

/** Runs `op` on the store at `root` through a FaultyStorage armed with `faults` once the store is open. */
async function runFaulted(root: string, faults: Fault[], op: (s: Store, onWarn: Warn) => Promise<unknown>): Promise<Outcome & { counts: Record<string, number> }> {
  const faulty = new FaultyStorage(new FsStorage(root));
  let error: unknown = null;
  let result: unknown = null;
  const warnings = await withStore(root, faulty, async (s, warnings) => {
    faulty.arm({ faults });
    try { result = await op(s, (code, message) => warnings.push(`${code}: ${message}`)); } catch (e) { error = e; }
    return warnings;
  });
  return { error, warnings, injected: [...faulty.injected], result, counts: faulty.counts };
}

/** The faults to try: the first and the last of each operation on each kind of blob a clean run made. */
function faultsFrom(counts: Record<string, number>): Fault[] {
  const out: Fault[] = [];
  for (const [key, n] of Object.entries(counts)) {
    const [op, kind] = key.split(':') as [FaultOp, 'pack' | 'snapshot' | undefined];
    if (!kind || !FAULT_OPS.includes(op)) continue;
    for (const nth of new Set([1, n])) out.push({ op, nth, kind });
  }
  return out;
}

/** One clear line: a ToolkitError with a code of its own, naming the injected fault. */
function assertClearError(e: unknown, what: string): void {
  assert.instance(e, ToolkitError, `${what}: ${String(e)}`);
  const err = e as ToolkitError;
  assert.is.not(err.code, 'INTERNAL', `${what}: ${err.message}`);
  assert.not.match(err.message, /\n/, what);
  assert.match(err.message, /injected|truncated/, `${what}: ${err.message}`);
}

/**
 * The store at `root` is whole: nothing in tmp/, check --read-data finds nothing, and every
 * snapshot it lists restores as it did before (`extra` says what a snapshot made under the
 * fault must restore to). Returns the ids listed.
 */
async function assertWhole(root: string, what: string, extra?: string): Promise<string[]> {
  assert.equal(readdirSync(join(root, 'tmp')), [], `${what}: tmp/ is empty`);
  return withStore(root, new FsStorage(root), async (s) => {
    const check = await checkStore(s, { readData: true });
    assert.equal(check.problems, [], `${what}: store check`);
    const ids = listSnapshots(s).map((x) => x.id);
    for (const id of ids) {
      const out = join(root, '..', `restore-${scenarioNo}-${id.slice(0, 8)}`);
      await restoreTo(s, id, out);
      const want = fx.golden.get(id) ?? extra;
      assert.ok(want, `${what}: snapshot ${id} is one of the fixture's`);
      assert.equal(compareTrees(want!, out, { rootMeta: false }), [], `${what}: restore of ${id}`);
      rmSync(out, { recursive: true, force: true });
    }
    return ids;
  });
}

interface Command {
  name: string;
  prepare?: (s: Store) => Promise<void>;
  op: (s: Store, onWarn: Warn) => Promise<unknown>;
  /** Where the command may, by design, carry on past a fault: the warning it gives instead of failing. */
  toleratedBy?: RegExp;
  /** After a failure: what makes the store whole again (repair runs again); default nothing. */
  recover?: (s: Store) => Promise<void>;
  /** The snapshots that must still be listed after the command, failed or not. */
  mustKeep: () => string[];
}

const [v1, v2] = (() => { let a = ''; let b = ''; return [() => a || (a = [...fx.golden.keys()][0]!), () => b || (b = [...fx.golden.keys()][1]!)]; })();

/** A check's problems as the CLI reports them (exit 1): a read that failed must be reported, naming the fault, never be silence. */
function reported(r: CheckResult): CheckResult {
  if (r.problems.length > 0) throw new ToolkitError('INTEGRITY', r.problems.map((p) => p.message).join('; '));
  return r;
}

/** Gc leaves a pack whose trailer it cannot read as it is, with a warning (pack-sweep.ts): it frees nothing from it. */
const GC_LEAVES_UNREADABLE_PACK = /^DAMAGED_PACK: .*(injected|truncated).*left alone/;

const COMMANDS: Command[] = [
  {
    name: 'snap create',
    op: (s, onWarn) => snapshot(s, fx.src, onWarn),
    // A parent whose trees cannot be read is not needed: every file is read instead (archiver.ts).
    toleratedBy: /^PARENT_UNREADABLE: .*(injected|truncated)/,
    mustKeep: () => [v1(), v2()],
  },
  {
    name: 'snap prune --keep-last 1',
    op: (s, onWarn) => prune(s, { policy: { last: 1 }, clock: { now: Date.now(), timeZone: 'UTC' }, repackThreshold: 0.01, onWarn }),
    toleratedBy: GC_LEAVES_UNREADABLE_PACK,
    mustKeep: () => [v2()],
  },
  {
    name: 'store gc (after v1 was forgotten)',
    prepare: (s) => s.removeSnapshots([v1()]),
    op: (s, onWarn) => collectGarbage(s, { repackThreshold: 0.01, onWarn }),
    toleratedBy: GC_LEAVES_UNREADABLE_PACK,
    mustKeep: () => [v2()],
  },
  {
    name: 'store check --read-data',
    op: async (s) => reported(await checkStore(s, { readData: true })),
    mustKeep: () => [v1(), v2()],
  },
  {
    name: 'store repair (a pack trailer damaged)',
    prepare: async (s) => damageTrailer(s.root),
    op: async (s, onWarn) => reported((await repairStore(s, { onWarn })).check),
    // Repair takes a blob it cannot read for a damaged one: a record is written again from the
    // index's verified copy (record-rescue.ts), a pack is quarantined and its records salvaged.
    toleratedBy: /^(REWRITTEN|QUARANTINED): .*(injected|truncated)/,
    recover: async (s) => { await repairStore(s); },
    mustKeep: () => [v1(), v2()],
  },
];

const faults = suite('storage faults');
faults.before(async () => {
  t = tempDir('storage-faults-');
  fx = await buildFixture();
});
faults.after(() => t.cleanup());

for (const cmd of COMMANDS) {
  faults(`${cmd.name}: every fault is one clear error, and the store stays whole`, async () => {
    // A clean run: the command works through the wrapper, and says which operations it makes.
    const probeRoot = await storeCopy(cmd.prepare);
    const probe = await runFaulted(probeRoot, [], cmd.op);
    assert.is(probe.error, null, `${cmd.name} (no fault): ${String(probe.error)}`);
    const list = faultsFrom(probe.counts);
    assert.ok(list.some((f) => f.op === 'read' || f.op === 'write' || f.op === 'remove'), `${cmd.name} reaches the storage: ${JSON.stringify(probe.counts)}`);
    rmSync(probeRoot, { recursive: true, force: true });
    const seen: string[] = [];
    for (const fault of list) {
      const what = `${cmd.name}, ${fault.op} #${fault.nth} of a ${fault.kind}`;
      const root = await storeCopy(cmd.prepare);
      const o = await runFaulted(root, [fault], cmd.op);
      assert.is(o.injected.length, 1, `${what}: the fault was injected`);
      if (o.error !== null) {
        assertClearError(o.error, what);
        if (cmd.recover) await withStore(root, new FsStorage(root), (s) => cmd.recover!(s));
        seen.push(`${what}: ${(o.error as ToolkitError).code}`);
      } else {
        assert.ok(cmd.toleratedBy && o.warnings.some((w) => cmd.toleratedBy!.test(w)), `${what}: no error and no warning (${o.warnings.join(' | ')})`);
        seen.push(`${what}: carried on (${o.warnings.find((w) => cmd.toleratedBy!.test(w))!.split(':')[0]})`);
      }
      const ids = await assertWhole(root, what, fx.src);
      for (const id of cmd.mustKeep()) assert.ok(ids.includes(id), `${what}: snapshot ${id} is still there`);
      rmSync(root, { recursive: true, force: true });
    }
    console.log(`  ${cmd.name}: ${seen.length} faults\n    ${seen.join('\n    ')}`);
  });
}

faults.run();
