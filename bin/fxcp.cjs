#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS FOXING_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node --min-semi-space-size=8 --interrupt-budget=524288
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
//
// `--min-semi-space-size=8` (MiB; V8 starts at 1 and grows it only after many scavenges): a copy
// keeps thousands of small objects alive across scavenges (entries in flight, their promises),
// and each scavenge copies them again. On the bench's mixed set (5,000 files, 4,556 directories,
// loop XFS) a cold copy made 14 scavenges with 72 ms of pauses, 6 with 14 ms at 8 MiB, for
// ~4-10 MB more peak RSS (a 16 MiB one: 2 scavenges, ~25 MB more). It must be given at start:
// V8 sizes the young generation when the heap is made, so v8.setFlagsFromString later is
// ignored. The memory is taken only as it is used: `fxcp --version` keeps its ~45 MB.
//
// `--interrupt-budget=524288` (4x V8's default): a function is optimized by TurboFan only after
// four times as much run time in the baseline tiers. A copy lasts a fraction of a second to a few
// and most of its functions run a few thousand times: the default optimized ~120 of them, on the
// second core, beside the pool threads doing the copy (TurboFan was 0.15-0.2 CPU-s of a cold copy
// of ~0.5). Loop XFS and btrfs, small and mixed sets, chrt -f 1, 4 interleaved rounds (load
// 11-12): CPU (user+sys) -0.03 to -0.11 s, wall incl. sync -0.02 to -0.10 s; an unchanged re-run
// of mixed on ext4: CPU 0.383 -> 0.360 s. A long copy still gets its hot functions optimized,
// a little later.
require('../build/lib/cli/cli-loader.cjs').start('fxcp', process.argv.slice(2));
