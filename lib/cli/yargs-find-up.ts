/**
 * The find-up yargs' platform shim takes from escalade, for the CLI bundle only (bin/build.js
 * aliases `escalade/sync` to this file there). Every yargs instance looks for a package.json to
 * guess a version (its factory calls version() before fxcp turns it off): in the bundle that
 * search starts from the working directory and lists every directory up to the first
 * package.json or the root, so `fxcp snap list` run from a directory of a million files read
 * a million names first, and one run where a FIFO named package.json lay on that path blocked
 * for ever in a read no signal could interrupt. fxcp never asks yargs for a version or a
 * config file, so nothing is
 * found, and yargs goes on without (its own fallback when no package.json exists).
 */
export default function findUp(_start: string, _match: (dir: string, names: string[]) => string | undefined): string | undefined {
  return undefined;
}
