/**
 * A whole session over an in-memory pair (formats/wire.md): the real server (serveSession) on a
 * real store, the real client (push, pull), and hostile peers written frame by frame: a client
 * sending chunks that do not hash to their ids or a record whose trees are not there, a server
 * sending wrong chunks. Whatever they send, nothing unverified is stored and no snapshot that
 * is not complete is listed.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import { encodeSnapshot, type SnapshotRecord } from '../../lib/snapshot/snapshot-record.js';
import { CHUNK_TREE, withStore, type Store } from '../../lib/store/index.js';
import { blake3 } from '../../lib/hash/blake3.js';
import { encodeTree } from '../../lib/snapshot/tree-codec.js';
import { walkTree } from '../../lib/snapshot/tree-walk.js';
import { FrameChannel } from '../../lib/transport/frame-channel.js';
import { pullSnapshots } from '../../lib/transport/pull-snapshots.js';
import { pushSnapshots } from '../../lib/transport/push-snapshots.js';
import { serveSession, type ServeOptions } from '../../lib/transport/serve-session.js';
import { WireClient } from '../../lib/transport/wire-client.js';
import { FRAME, WIRE_VERSION } from '../../lib/transport/wire-layout.js';
import { decodeJson, encodeChunkRecords, encodeJson, encodeWalkPage, type WireChunk } from '../../lib/transport/wire-messages.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir();
const src = join(t.path, 'src'), local = join(t.path, 'local');
test.after(() => t.cleanup());

test.before(() => {
  mkdirSync(join(src, 'd'), { recursive: true });
  writeFileSync(join(src, 'd/a.bin'), seededBytes(1_500_000, 3));
  writeFileSync(join(src, 'b.txt'), 'one\n');
  assert.is(fxcp(['snap', 'create', src, local]).code, 0);
  writeFileSync(join(src, 'b.txt'), 'two\n');
  assert.is(fxcp(['snap', 'create', src, local]).code, 0);
});

const open = <T>(path: string, fn: (s: Store) => Promise<T>, create = false) => withStore(path, { lock: 'shared', command: 'test', create }, fn);

/** A server on one end of an in-memory pair; the other end's channel for a client. */
function serve(opts: Partial<ServeOptions> = {}) {
  const up = new PassThrough(), down = new PassThrough();
  const server = serveSession(new FrameChannel(up, down, 'server', 'client'), {
    appendOnly: false, version: 'test', openStore: (path, create, fn) => open(path, fn, create), ...opts,
  });
  server.catch(() => {});
  return { channel: new FrameChannel(down, up, 'client', 'mem://server'), server };
}

async function connect(path: string, create = true, opts: Partial<ServeOptions> = {}) {
  const { channel, server } = serve(opts);
  const client = new WireClient(channel, 'test');
  await client.hello();
  await client.open(path, create);
  return { client, channel, server };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (err) { return err instanceof ToolkitError ? err.code : `not a ToolkitError: ${String(err)}`; }
  return 'no error';
}

const ids = (path: string) => fxcpJson(['snap', 'list', path]).snapshots.map((s: { id: string }) => s.id);
/** What a failed transfer leaves listed: nothing (a store it created and left empty is removed). */
const listedAfterFailure = (path: string) => (existsSync(path) ? ids(path) : []);

test('push, push again (nothing sent), pull back: the same snapshots', async () => {
  const remote = join(t.path, 'remote');
  const first = await open(local, async (store) => {
    const s = await connect(remote);
    const r = await pushSnapshots(store, s.client, listSnapshots(store));
    await s.client.bye();
    await s.server;
    return { ...r, sent: s.channel.bytesSent };
  });
  assert.is(first.snapshots.filter((x) => x.added).length, 2);
  assert.ok(first.chunksSent > 10);
  assert.equal(ids(remote), ids(local));
  // Into an empty store the receiver indexed its packs at the end (deferred-indexing.ts).
  assert.is(fxcpJson(['store', 'check', remote, '--read-data']).problems.length, 0);
  const again = await open(local, async (store) => {
    const s = await connect(remote);
    const r = await pushSnapshots(store, s.client, listSnapshots(store));
    await s.client.bye();
    return { ...r, sent: s.channel.bytesSent };
  });
  assert.is(again.chunksSent, 0);
  assert.ok(again.sent < first.sent / 100, `${again.sent} bytes the second time, ${first.sent} the first`);
  const back = join(t.path, 'back');
  await open(back, async (store) => {
    const s = await connect(remote, false);
    const r = await pullSnapshots(store, s.client, ids(remote));
    await s.client.bye();
    assert.is(r.snapshots.filter((x) => x.added).length, 2);
  }, true);
  assert.equal(ids(back), ids(local));
  assert.is(fxcp(['store', 'check', back, '--read-data']).code, 0);
});

test('a client that goes without TBye right after opening (its own store failed to open) leaves no store created', async () => {
  const remote = join(t.path, 'never-used');
  const s = await connect(remote, true);
  assert.ok(existsSync(join(remote, 'config')), 'the open created the store');
  s.client.close();
  assert.is(await codeOf(s.server), 'TRANSPORT');
  assert.not.ok(existsSync(remote), 'the empty store is removed');
});

test('a client sending a chunk that does not hash to its id is refused; nothing is listed', async () => {
  const remote = join(t.path, 'hostile-chunk');
  const s = await connect(remote);
  const stored = seededBytes(5000, 9);
  const put = s.client.raw(FRAME.TPutChunks, FRAME.RPutChunks, encodeChunkRecords([{ id: seededBytes(32, 1), type: 0, codec: 0, rawLength: stored.length, stored }]));
  assert.is(await codeOf(put), 'INTEGRITY');
  assert.is(await codeOf(s.server), 'INTEGRITY');
  assert.equal(listedAfterFailure(remote), []);
  if (existsSync(remote)) assert.is(fxcp(['store', 'check', remote]).code, 0);
});

test('a record whose trees the server lacks is refused (the record goes last)', async () => {
  const remote = join(t.path, 'hostile-record');
  const record = await open(local, async (store) => listSnapshots(store)[0]!.record);
  const s = await connect(remote);
  const put = s.client.raw(FRAME.TPutSnapshot, FRAME.RPutSnapshot, encodeSnapshot(record as SnapshotRecord).bytes);
  assert.is(await codeOf(put), 'INTEGRITY');
  assert.equal(listedAfterFailure(remote), []);
});

test('a pushed tree with an entry named ".." is refused (every tree is decoded before the record); nothing is listed', async () => {
  const remote = join(t.path, 'hostile-dotdot');
  const record = await open(local, async (store) => listSnapshots(store)[0]!.record);
  const evil = encodeTree([{ name: Buffer.from('..'), type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n, dev: 0n, ino: 0n, nlink: 1, rdev: 0, chunks: [] }]);
  const id = Buffer.from(blake3().hash(evil));
  const s = await connect(remote);
  // The chunk itself is sound (its bytes hash to its id): only the walk can refuse it.
  await s.client.raw(FRAME.TPutChunks, FRAME.RPutChunks, encodeChunkRecords([{ id, type: CHUNK_TREE, codec: 0, rawLength: evil.length, stored: evil }]));
  const put = s.client.raw(FRAME.TPutSnapshot, FRAME.RPutSnapshot, encodeSnapshot({ ...(record as SnapshotRecord), tree: id.toString('hex') }).bytes);
  assert.is.not(await codeOf(put), 'no error');
  assert.equal(listedAfterFailure(remote), []);
});

test('the next snapshot beside its parent: a push and a pull offer only what changed (d/ and its 1.5 MB are left out)', async () => {
  const remote = join(t.path, 'beside-remote'), back = join(t.path, 'beside-back');
  const [first, second] = await open(local, async (store) => listSnapshots(store));
  const push = (s: typeof first) => open(local, async (store) => {
    const c = await connect(remote);
    const r = await pushSnapshots(store, c.client, [s!]);
    await c.client.bye();
    return r;
  });
  const whole = await push(first);
  const next = await push(second);
  // What changed: b.txt (one chunk) and the two trees above it (the source's and the root).
  assert.is(next.chunksOffered, 3, `offered ${next.chunksOffered} (the first push offered ${whole.chunksOffered})`);
  assert.ok(whole.chunksOffered > 10);
  assert.equal(ids(remote), ids(local));
  const pull = (id: string) => open(back, async (store) => {
    const c = await connect(remote, false);
    const r = await pullSnapshots(store, c.client, [id]);
    await c.client.bye();
    return r;
  }, true);
  assert.ok((await pull(first!.id)).chunksOffered > 10);
  assert.is((await pull(second!.id)).chunksOffered, 3);
  assert.equal(ids(back), ids(local));
  assert.is(fxcp(['store', 'check', back, '--read-data']).code, 0);
  assert.is(fxcp(['store', 'check', remote, '--read-data']).code, 0);
});

test('a record whose parent the server lists, sent with its trees but not its changed chunk: refused', async () => {
  const remote = join(t.path, 'beside-hostile');
  const [first, second] = await open(local, async (store) => listSnapshots(store));
  const trees = await open(local, async (store) => {
    const c = await connect(remote);
    await pushSnapshots(store, c.client, [first!]);
    // Every tree of the second snapshot, as stored, and nothing else: b.txt's new chunk is not sent.
    const out: WireChunk[] = [];
    await walkTree(store, Buffer.from(second!.record.tree, 'hex'), {
      enterTree(id) { out.push({ id, type: CHUNK_TREE, codec: store.locate(id).codec, rawLength: store.locate(id).rawLength, stored: Buffer.alloc(0) }); return true; },
      chunk() {},
    });
    for (const x of out) x.stored = await store.readStoredPreferSync(x.id, store.locate(x.id));
    await c.client.bye();
    return out;
  });
  const s = await connect(remote, false);
  await s.client.raw(FRAME.TPutChunks, FRAME.RPutChunks, encodeChunkRecords(trees));
  const put = s.client.raw(FRAME.TPutSnapshot, FRAME.RPutSnapshot, encodeSnapshot(second!.record).bytes);
  assert.is(await codeOf(put), 'INTEGRITY');
  assert.equal(ids(remote), [first!.id]);
});

test('version mismatch: refused by the server with both versions', async () => {
  const { channel } = serve();
  const client = new WireClient(channel, 'test');
  const r = client.json(FRAME.THello, FRAME.RHello, { wire: WIRE_VERSION + 1, program: 'fxcp', version: 'x' });
  try { await r; assert.unreachable(); } catch (err) {
    assert.is((err as ToolkitError).code, 'PROTOCOL_VERSION');
    assert.match((err as Error).message, new RegExp(`version ${WIRE_VERSION}.*speaks ${WIRE_VERSION + 1}`));
  }
});

test('append-only: forget is refused and the session goes on; without it, forget works', async () => {
  const remote = join(t.path, 'remote');
  const all = ids(remote);
  const s = await connect(remote, false, { appendOnly: true });
  assert.is(await codeOf(s.client.json(FRAME.TForget, FRAME.RForget, { ids: [all[0]] })), 'APPEND_ONLY');
  const list = await s.client.json(FRAME.TListSnapshots, FRAME.RSnapshots);
  assert.is((list.snapshots as unknown[]).length, 2, 'the session went on');
  await s.client.bye();
  assert.equal(ids(remote), all);
  const w = await connect(remote, false);
  assert.equal(await w.client.json(FRAME.TForget, FRAME.RForget, { ids: [all[0]] }), { removed: 1 });
  await w.client.bye();
  assert.equal(ids(remote), all.slice(1));
});

test('--restrict-to-path and STORE: other paths are refused, symbolic links resolved', async () => {
  const dir = join(t.path, 'allowed');
  mkdirSync(dir);
  const { symlinkSync } = await import('node:fs');
  symlinkSync(t.path, join(dir, 'escape'));
  const tryOpen = async (path: string, opts: Partial<ServeOptions>) => {
    const { channel } = serve(opts);
    const client = new WireClient(channel, 'test');
    await client.hello();
    return codeOf(client.open(path, true).then(() => client.bye()));
  };
  assert.is(await tryOpen(join(t.path, 'elsewhere'), { restrictTo: dir }), 'PATH_REFUSED');
  assert.is(await tryOpen(join(dir, 'escape', 'x'), { restrictTo: dir }), 'PATH_REFUSED');
  assert.is(await tryOpen(join(dir, '..', 'x'), { restrictTo: dir }), 'PATH_REFUSED');
  assert.is(await tryOpen(join(dir, 'ok'), { restrictTo: dir }), 'no error');
  assert.is(await tryOpen(join(t.path, 'remote'), { store: join(t.path, 'other') }), 'PATH_REFUSED');
});

/** A server written frame by frame: answers a pull's walk with `id` and RChunk with `bytes`. */
function hostileServer(walk: Buffer, chunkId: Buffer, bytes: Buffer) {
  const up = new PassThrough(), down = new PassThrough();
  const ch = new FrameChannel(up, down, 'server', 'client');
  void (async () => {
    for await (const f of ch.frames()) {
      const r = (type: number, body?: Uint8Array) => ch.send(type, f.requestId, body);
      if (f.type === FRAME.THello) await r(FRAME.RHello, encodeJson({ wire: WIRE_VERSION, program: 'fxcp', version: 'evil', appendOnly: false }));
      else if (f.type === FRAME.TOpen) await r(FRAME.ROpen, encodeJson({ path: '/x', storeId: 'x', chunkerMax: 1 << 21 }));
      else if (f.type === FRAME.TWalk) await r(FRAME.RWalkIds, encodeWalkPage(true, [{ id: walk, type: 1 }]));
      else if (f.type === FRAME.TGetChunks) await r(FRAME.RChunk, encodeChunkRecords([{ id: chunkId, type: 1, codec: 0, rawLength: bytes.length, stored: bytes }]));
      else await r(FRAME.RError, encodeJson({ code: 'UNSUPPORTED', message: String(decodeJson(encodeJson({}), 'x')) }));
    }
  })().catch(() => {});
  return new FrameChannel(down, up, 'client', 'mem://evil');
}

test('pull from a server sending a chunk under the wrong id, or another chunk than asked: refused, nothing listed', async () => {
  const back = join(t.path, 'evil-back');
  const id = seededBytes(32, 5);
  for (const [answerId, code] of [[id, 'INTEGRITY'], [seededBytes(32, 6), 'PROTOCOL']] as const) {
    const client = new WireClient(hostileServer(id, answerId, seededBytes(100, 7)), 'test');
    await client.hello();
    await client.open('/x', false);
    const snap = 'ab'.repeat(32);
    assert.is(await codeOf(open(back, (store) => pullSnapshots(store, client, [snap], { remote: [] }), true)), code);
    client.close();
  }
  assert.equal(listedAfterFailure(back), []);
});

test.run();
