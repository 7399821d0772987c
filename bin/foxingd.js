#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node --max-semi-space-size=4
// The foxingd command (package.json "bin"): the same loader and command-line machinery as fxcp
// (lib/cli/cli-loader.cts; why the first line drops NODE_EXTRA_CA_CERTS: bin/fxcp). The first
// line also caps V8's young generation at 2 x 4 MiB (default 2 x 16 MiB), which V8 reads only
// when the process starts (lib/cli/heap-policy.ts says why).
import { createRequire } from 'node:module';
createRequire(import.meta.url)('../build/lib/cli/cli-loader.cjs').start('foxingd', process.argv.slice(2));
