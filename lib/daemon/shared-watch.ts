/**
 * One watch of a source tree for all its mirrors: `foxingd daemon` gives each mirror of a source
 * a live sync of its own (its own queue, pace and outages), but they all take their changes
 * from one event source (one fanotify mark, or one set of inotify watches: with inotify, a
 * watch per directory per mirror would spend the user's watch limit once per mirror).
 *
 * Each live sync opens a handle (open) and closes it; the event source opens with the first
 * handle and closes with the last. A handle opened again after a pause reopens the event source
 * only if the source root is no longer the directory it was opened on (an unmounted or replaced
 * source: every mirror pauses and rescans then); a mirror whose target came back reopens its
 * handle alone, and the others lose no event.
 */
import { lstatSync, type Stats } from 'node:fs';
import { type EventsChoice, openChangeSource, type OpenedSource } from './change-source.js';
import type { ChangeSource, SourceHooks } from './fs-change.js';

export class SharedWatch {
  private source: OpenedSource | null = null;
  /** The root's identity when the event source was opened. */
  private root: Stats | null = null;
  private readonly users = new Set<SourceHooks>();

  constructor(readonly dir: Buffer, readonly choice: EventsChoice) {}

  /** A handle for one more user; its changes come to `hooks.onChange`. */
  open(hooks: SourceHooks): OpenedSource {
    const now = lstatSync(this.dir);
    if (this.source && (this.root!.dev !== now.dev || this.root!.ino !== now.ino)) {
      this.source.source.close();
      this.source = null;
    }
    this.users.add(hooks);
    if (!this.source) {
      try {
        this.source = openChangeSource(this.choice, this.dir, {
          onChange: (c) => { for (const u of this.users) u.onChange(c); },
          skip: (p) => [...this.users].every((u) => u.skip(p)),
        });
      } catch (err) {
        this.users.delete(hooks);
        throw err;
      }
      this.root = now;
    }
    const opened = this.source;
    // The handle follows the event source as it is reopened (a replaced root, by any user).
    const current = () => this.source?.source;
    const handle: ChangeSource = {
      watchTree: (d) => current()?.watchTree(d) ?? false,
      get watches() { return current()?.watches ?? 0; },
      close: () => {
        if (!this.users.delete(hooks) || this.users.size > 0) return;
        this.source?.source.close();
        this.source = null;
      },
    };
    return { source: handle, kind: opened.kind, note: opened.note };
  }
}
