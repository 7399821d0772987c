/**
 * Whether this process runs as root (effective uid 0), which decides whether a restore restores
 * ownership (lchown to any uid/gid) and may create device nodes.
 *
 * Limits: this is the effective uid only, not a capability check. Root inside a user namespace
 * (rootless containers) counts as root here but may still get EPERM from chown to unmapped ids
 * or from mknod of devices; callers handle those errors as they come. A non-root process with
 * CAP_CHOWN is treated as not root (ownership is not attempted).
 */
export function runningAsRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}
