#!/usr/bin/env node
// Thin shim: all behaviour lives in lib/cli (compiled to build/).
import { main } from '../build/lib/cli/main.js';
main('fxcp', process.argv.slice(2));
