#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// The foxingd command (package.json "bin"): the same loader and command-line machinery as fxcp
// (lib/cli/cli-loader.cts; why the first line drops NODE_EXTRA_CA_CERTS: bin/fxcp).
import { createRequire } from 'node:module';
createRequire(import.meta.url)('../build/lib/cli/cli-loader.cjs').start('foxingd', process.argv.slice(2));
