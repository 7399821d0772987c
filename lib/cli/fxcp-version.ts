/** This fxcp's version (package.json), told to the other end of a wire session (formats/wire.md). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-paths.js';

export function fxcpVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}
