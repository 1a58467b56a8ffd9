/**
 * A first-in, first-out queue with O(1) push and shift. (`Array.prototype.shift` is O(n) on
 * large arrays, which made draining a backlog of decoded changes quadratic.)
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    // Drop the consumed prefix once it dominates, so memory stays proportional to what is queued.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** The most recently pushed item still queued. */
  last(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.items.length - 1];
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
