/** foxingd's commands: none in this build yet (the replication daemon is a later issue). */
import { GLOBAL_OPTIONS } from './command-spec.js';
import type { CommandEntry, Program } from './command-table.js';

export const FOXINGD_COMMANDS: CommandEntry[] = [];

export const FOXINGD: Program = {
  name: 'foxingd', section: 8, summary: 'the Foxing replication daemon (no commands in this build yet)',
  commands: FOXINGD_COMMANDS, globalOptions: GLOBAL_OPTIONS,
};
