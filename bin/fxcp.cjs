#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS FOXING_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node
// The fxcp command (package.json "bin"; bin/fxcp links here). All behaviour lives in lib/cli;
// lib/cli/cli-loader.cts explains how it is loaded.
//
// The first line runs node without NODE_EXTRA_CA_CERTS: node reads and parses that certificate
// file at every start, about 100 ms for a distribution's CA bundle on a 2-core VM, more than the
// rest of a small command. Its value is passed on as FOXING_EXTRA_CA_CERTS, which only an
// s3:// store behind https reads (lib/store/s3-settings.ts), at its first connection;
// everything else in the environment is passed on. `env -S` (GNU coreutils 8.30+, BSD/macOS)
// splits that line; a shell wrapper did the same but its `sh` and `readlink` processes cost
// ~8 ms of every command. Where env lacks -S (busybox), run `node bin/fxcp.cjs` instead.
require('../build/lib/cli/cli-loader.cjs').start('fxcp', process.argv.slice(2));
