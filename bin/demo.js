#!/usr/bin/env node
// `npm run demo`: the main job on a generated sample (see lib/demo/run-demo.ts).
import { runDemo } from '../build/lib/demo/run-demo.js';
process.exitCode = await runDemo();
