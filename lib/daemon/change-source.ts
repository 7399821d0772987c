/**
 * `--events auto|fanotify|inotify`: which kernel interface watches a source. auto takes
 * fanotify (one filesystem mark, fanotify-source.ts) where it can be had, as root on a kernel
 * with FAN_REPORT_DFID_NAME and FAN_RENAME (5.17+), and inotify (a watch per directory,
 * inotify-source.ts) otherwise; the caller logs which, and why.
 */
import type { ChangeSource, SourceHooks } from './fs-change.js';
import { FanotifySource } from './fanotify-source.js';
import { InotifySource } from './inotify-source.js';

export type EventsChoice = 'auto' | 'fanotify' | 'inotify';

export interface OpenedSource { source: ChangeSource; kind: 'fanotify' | 'inotify'; note: string }

export function openChangeSource(choice: EventsChoice, root: Buffer, hooks: SourceHooks): OpenedSource {
  if (choice !== 'inotify') {
    try {
      return { source: new FanotifySource(root, hooks), kind: 'fanotify', note: 'fanotify (a filesystem mark)' };
    } catch (err) {
      if (choice === 'fanotify') throw err;
      const why = (err as NodeJS.ErrnoException).code === 'EPERM' ? 'not root' : (err as Error).message;
      return { source: new InotifySource(hooks), kind: 'inotify', note: `inotify (a watch per directory; fanotify: ${why})` };
    }
  }
  return { source: new InotifySource(hooks), kind: 'inotify', note: 'inotify (a watch per directory, as asked)' };
}
