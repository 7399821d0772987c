/**
 * `fxcp --compare SRC DEST`: whether two directory trees hold the same names and bytes
 * (lib/copy/tree-compare.ts: Merkle hashes, file hashes from each tree's valid signatures where
 * it has them). Nothing is written. Exit 0 when they are the same, 1 when they differ (as diff
 * and cmp), 2 on an error. Each difference is a line ("only in SRC: a/b", "differs: c") or,
 * under --json, a record; the last line (or record) gives both root hashes.
 */
import { statSync } from 'node:fs';
import { UsageError } from '../../errors/index.js';
import { toBuffer } from '../../fs/fs-path.js';
import { compareTrees, type TreeDifference } from '../../copy/tree-compare.js';
import { SignatureStore } from '../../signature/signature-store.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

const LABEL: Record<TreeDifference['kind'], string> = { 'only-src': 'only in SRC', 'only-dest': 'only in DEST', 'type': 'type differs', 'content': 'differs' };

export async function runCompare(srcs: readonly string[], dest: string, out: Output, stats: boolean): Promise<number> {
  if (srcs.length !== 1) throw new UsageError(`--compare takes one SRC and one DEST, got ${srcs.length + 1} paths`);
  for (const p of [srcs[0], dest]) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st?.isDirectory()) throw new UsageError(`${p}: --compare takes two directories; this is ${st ? 'not a directory' : 'missing'}`, { path: p });
  }
  const srcSignatures = SignatureStore.openToRead(srcs[0]);
  const destSignatures = SignatureStore.openToRead(dest);
  try {
    const r = compareTrees(toBuffer(srcs[0]), toBuffer(dest), {
      srcSignatures, destSignatures,
      onDifference: (d) => {
        out.record({ difference: d.kind, path: d.path, type: d.type, ...(d.destType ? { destType: d.destType } : {}) });
        out.line(`${LABEL[d.kind]}: ${d.path}${d.destType ? ` (${d.type} in SRC, ${d.destType} in DEST)` : ''}`);
      },
    });
    const same = r.differences === 0;
    out.record({ summary: { same, differences: r.differences, srcRoot: r.srcRoot.toString('hex'), destRoot: r.destRoot.toString('hex'), read: r.read, fromSignatures: r.fromSignatures } });
    out.line(same ? `same: the trees hold the same names and bytes (root ${r.srcRoot.toString('hex').slice(0, 16)})`
      : `${r.differences} difference${r.differences === 1 ? '' : 's'}`);
    if (stats) {
      out.line(`SRC root:  ${r.srcRoot.toString('hex')}`);
      out.line(`DEST root: ${r.destRoot.toString('hex')}`);
      out.line(`Files hashed by reading: ${r.read}, from signatures: ${r.fromSignatures}`);
    }
    return same ? EXIT.OK : EXIT.PARTIAL;
  } finally {
    await srcSignatures?.close();
    await destSignatures?.close();
  }
}
