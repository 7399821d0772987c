#!/usr/bin/env node
// Thin shim: all behaviour lives in lib/cli (compiled to build/).
import { main } from '../build/lib/cli/main.js';
main('foxingd', process.argv.slice(2));
