// PSI (lib/util/pressure.ts): the parser on the kernel's format, the reader on files of a test
// directory (the larger of io and memory, null without PSI files or with others), and the real
// /proc/pressure when there is one.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePsi, psiPressure } from '../../lib/util/pressure.js';

test('parsePsi reads the kernel format; psiPressure takes the larger of io and memory, null without PSI', () => {
  const io = 'some avg10=12.50 avg60=3.00 avg300=1.00 total=123\nfull avg10=5.00 avg60=1.00 avg300=0.50 total=45\n';
  assert.equal(parsePsi(io), { some: { avg10: 12.5, avg60: 3, avg300: 1, total: 123 }, full: { avg10: 5, avg60: 1, avg300: 0.5, total: 45 } });
  assert.is(parsePsi('nonsense'), null);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-psi-'));
  try {
    assert.is(psiPressure(dir), null, 'no files');
    fs.writeFileSync(path.join(dir, 'io'), io);
    fs.writeFileSync(path.join(dir, 'memory'), 'some avg10=40.00 avg60=0.00 avg300=0.00 total=1\n');
    assert.is(psiPressure(dir)!(), 40);
    fs.writeFileSync(path.join(dir, 'memory'), 'garbage');
    assert.is(psiPressure(dir), null, 'a file that is not PSI');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const real = psiPressure();
  if (real) assert.ok(real() >= 0 && real() <= 100);
  else console.log('  note: no /proc/pressure here');
});

test.run();
