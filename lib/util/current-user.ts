import { userInfo } from 'node:os';

/**
 * The user name a snapshot record names as its maker. userInfo() throws when the uid has no
 * passwd entry (a container's arbitrary uid): the numeric uid stands in then.
 */
export function currentUser(): string {
  try { return userInfo().username; } catch { return String(process.getuid?.() ?? ''); }
}
