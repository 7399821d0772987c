#!/usr/bin/env node
// Thin shim: all behaviour lives in lib/cli; lib/cli/cli-loader.cts explains how it is loaded.
// Users start it through bin/fxcp, which also drops NODE_EXTRA_CA_CERTS (see there).
require('../build/lib/cli/cli-loader.cjs').start('fxcp', process.argv.slice(2));
