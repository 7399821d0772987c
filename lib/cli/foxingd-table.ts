/**
 * The command table of foxingd, the replication daemon: the same machinery as fxcp's
 * (command-spec.ts) drives its parsing, help, completion and man page, so its commands arrive
 * as rows here and need no parser of their own. There are none in this build yet: they come
 * with the daemon's issue.
 */
import { GLOBAL_OPTIONS } from './command-spec.js';
import type { CommandEntry, Program } from './command-table.js';

export const FOXINGD_COMMANDS: CommandEntry[] = [];

export const FOXINGD: Program = {
  name: 'foxingd', section: 8, summary: 'the replication daemon of Foxing for Node',
  commands: FOXINGD_COMMANDS, globalOptions: GLOBAL_OPTIONS,
};
