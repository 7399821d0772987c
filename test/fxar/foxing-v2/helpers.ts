/**
 * Shared by the Foxing reader tests: the fixtures (fixtures/foxing-v2/, derived from the spec by
 * fixtures/gen-foxing-v2-fixtures.ts, not written by the reference), a reader over bytes, and
 * the content every fixture holds (fixtures/foxing-v2/foxing-spec.ts).
 */
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../../lib/errors/index.js';
import { FoxingReader } from '../../../lib/fxar/foxing-v2/foxing-reader.js';
import { MemoryReader } from '../../../lib/fxar/positional-file.js';
import { foxingFiles } from '../../../fixtures/foxing-v2/foxing-spec.js';

export const fixture = (name: string) => readFileSync(new URL(`../../../../fixtures/foxing-v2/${name}`, import.meta.url));

export const open = (b: Buffer, name = 'test.fxar') => FoxingReader.open(new MemoryReader(b, name));

/** Manifest path → content, as the spec wrote it. */
export const expectedContent = () => new Map(foxingFiles().map((f) => [f.path, f.data]));

export async function readAll(r: FoxingReader, path: string): Promise<Buffer> {
  const f = r.manifest.files.find((x) => x.path === path);
  assert.ok(f, `no file ${path}`);
  const parts: Uint8Array[] = [];
  for await (const p of r.fileData(f!)) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

export async function errorOf(fn: () => unknown): Promise<ToolkitError> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, ToolkitError, String((err as Error)?.stack ?? err));
    assert.not.ok((err as Error).message.includes('\n'), 'a one-line message');
    return err as ToolkitError;
  }
  throw new Error('expected an error');
}

/** A copy of `b` with `f` applied. */
export function edited(b: Buffer, f: (c: Buffer) => void): Buffer {
  const c = Buffer.from(b);
  f(c);
  return c;
}
