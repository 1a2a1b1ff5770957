/**
 * A loop that drains a queue kept in the database: on a timer, and at once
 * when woken. One pass at a time per instance; a wake during a pass makes
 * the pass run again, so nothing woken for waits for the next tick.
 */
export class QueueWorker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;

  /** `work` handles one batch and answers whether there was any. */
  constructor(private readonly name: string, private readonly work: () => Promise<boolean>) {}

  start(intervalMs = 250): void {
    this.timer = setInterval(() => this.wake(), intervalMs);
    this.timer.unref();
    this.wake();
  }

  wake(): void {
    if (!this.timer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.again = false;
        while (this.timer && (await this.work())) {
          // Embedded PGlite answers without ever leaving the microtask queue: give requests waiting for I/O their turn.
          await new Promise((r) => setImmediate(r));
        }
      } while (this.again && this.timer);
    } catch (e) {
      console.error(`[paybridge] ${this.name}:`, (e as Error).message);
    }
  }

  /** Stops the timer and waits for a pass under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
