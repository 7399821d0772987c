/** A counting semaphore: bounds how many jobs run at once (in-flight files, reads). */
export class Semaphore {
  private readonly waiters: Array<() => void> = [];

  constructor(private free: number) {}

  /** Takes a place if one is free, at once; false when none is. */
  tryAcquire(): boolean {
    if (this.free <= 0) return false;
    this.free--;
    return true;
  }

  async acquire(): Promise<void> {
    if (this.free > 0) { this.free--; return; }
    await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Adds `n` places for good (waiters first). */
  grow(n: number): void {
    for (let i = 0; i < n; i++) this.release();
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}
