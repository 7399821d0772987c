// The daemon's mirror (lib/daemon/mirror.ts) against a target seeded by the real
// `fxcp -a --generate-sigs` (issue 22: "a target seeded with fxcp -a --generate-sigs starts with
// nothing to copy"): its hydration writes nothing and touches no file; then a file changed at the
// source is rebuilt by a rescan's delta from the signature fxcp recorded (the same store, the
// same units).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Mirror } from '../../lib/daemon/mirror.js';
import { writeTree } from '../helpers/copy-tree.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('mirror-');
test.after(() => t.cleanup());

/** Every regular file below `root` (not .foxing) with its inode and ctime. */
function identities(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (rel === '' && e.name === '.foxing') continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p, `${rel}${e.name}/`);
      else { const st = fs.lstatSync(p, { bigint: true }); out.set(rel + e.name, `${st.ino} ${st.ctimeNs}`); }
    }
  };
  walk(root, '');
  return out;
}

test('a target seeded by fxcp -a --generate-sigs: hydration copies nothing; a changed file is rebuilt from fxcp\'s signature', async () => {
  const src = path.join(t.path, 'src'), dst = path.join(t.path, 'dst');
  writeTree(src, { 'a.txt': 'a', 'd/b.txt': 'bb', 'd/e/c.bin': seededBytes(70_000, 1), 'big': seededBytes(4 << 20, 2) });
  const r = fxcp(['-a', '--generate-sigs', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(fs.existsSync(path.join(dst, '.foxing', 'signatures.mdb')));
  const before = identities(dst);
  const warnings: string[] = [];
  const mirror = new Mirror(Buffer.from(src), Buffer.from(dst), { onWarn: (code, message) => warnings.push(`${code} ${message}`) });

  const h = await mirror.hydrate();
  assert.equal([h.written, h.bytesWritten, h.deleted, h.created, h.attrsOnly, h.unchanged], [0, 0, 0, 0, 0, 4]);
  assert.equal(identities(dst), before, 'no file of the target rewritten or touched');

  const big = fs.readFileSync(path.join(src, 'big'));
  fs.writeFileSync(path.join(src, 'big'), Buffer.concat([big.subarray(0, 2 << 20), seededBytes(8192, 3), big.subarray(2 << 20)]));
  // A rescan (as the hydration, with signatures; a live sync of one file copies it whole).
  const out = await mirror.run({ kind: 'rescan', path: null, why: 'test' });
  assert.is(out.written, 1);
  assert.ok(out.reused > 3.5 * 2 ** 20 && out.bytes < 2 ** 19, JSON.stringify(out));
  assert.ok(fs.readFileSync(path.join(dst, 'big')).equals(fs.readFileSync(path.join(src, 'big'))));
  assert.equal(warnings, []);
});

test.run();
