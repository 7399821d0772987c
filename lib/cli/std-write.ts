/**
 * Writes the CLI's text to stdout and stderr with write(2) on file descriptors 1 and 2, whole
 * and in order, before the call returns.
 *
 * Why not process.stdout: creating it loads Node's stream classes (and, for a pipe, net), about
 * 4 ms of a small command's start-up, to print one line. process.stdout writes to pipes and
 * files are synchronous on Linux anyway, so nothing is lost by writing directly; a command that
 * streams bytes to stdout (snap export) still uses process.stdout and prints its own messages
 * on stderr, so the two never interleave on one descriptor.
 *
 * A descriptor another process left non-blocking (a shared pipe) can refuse a write with EAGAIN
 * when the reader is slow: the writer then sleeps 1 ms and tries again. A reader that went away
 * (`fxcp snap list | head -1`): stdout stops quietly with exit 2, as a C tool killed by SIGPIPE
 * would; on stderr there is nobody left to tell, so the text is dropped.
 */
import { writeSync } from 'node:fs';
import { EXIT } from './exit-codes.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd: 1 | 2, text: string): void {
  const bytes = Buffer.from(text);
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 1);
      else if (code === 'EPIPE' && fd === 1) process.exit(EXIT.FAILURE);
      else if (code === 'EPIPE') return;
      else throw err;
    }
  }
}

export function writeOut(text: string): void {
  writeAll(1, text);
}

/** A status line is drawn on stderr (a progress bar on a terminal) and not yet cleared. */
let statusShown = false;

export function writeErr(text: string): void {
  // A warning while the bar is drawn takes its line; the bar's next redraw comes below it.
  if (statusShown) { statusShown = false; text = `\r\x1b[K${text}`; }
  writeAll(2, text);
}

/** Draws (or with '' clears) the one status line of a terminal's stderr, in place. */
export function writeStatus(text: string): void {
  writeAll(2, `\r\x1b[K${text}`);
  statusShown = text !== '';
}
