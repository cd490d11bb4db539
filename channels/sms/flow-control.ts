// Client-side flow control the `smpp` library lacks: a window of outstanding submit_sm that
// shrinks when the SMSC throttles and grows back as it accepts (AIMD), a global pause after a
// throttle reply, and an optional rate limit in PDUs per second (each part counts).
import { SmsTransientError } from './errors';

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class SubmitWindow {
  private capacity: number;
  private inFlight = 0;
  private successes = 0;
  private readonly waiters: Waiter[] = [];
  private readonly drainWaiters: Array<() => void> = [];

  constructor(private readonly max: number) {
    this.capacity = Math.max(1, max);
  }

  get size(): number {
    return this.capacity;
  }

  get outstanding(): number {
    return this.inFlight;
  }

  /** Resolves with a release function; rejects with SmsTransientError('timeout') after timeoutMs. */
  async acquire(timeoutMs: number): Promise<() => void> {
    if (this.inFlight >= this.capacity || this.waiters.length > 0) {
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          timer: setTimeout(() => {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            reject(new SmsTransientError('timeout'));
          }, timeoutMs),
        };
        this.waiters.push(waiter);
      });
    } else {
      this.inFlight++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.pump();
    };
  }

  /** Multiplicative decrease after a throttle reply. */
  shrink(): void {
    this.capacity = Math.max(1, Math.floor(this.capacity / 2));
    this.successes = 0;
  }

  /** Additive increase: one more slot after a full window of accepted submits. */
  grow(): void {
    if (this.capacity >= this.max) return;
    if (++this.successes >= this.capacity) {
      this.capacity++;
      this.successes = 0;
      this.pump();
    }
  }

  /** Rejects every waiter (used by close()). */
  failAll(error: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  /** Resolves when nothing is outstanding or after timeoutMs, whichever comes first. */
  drained(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private pump(): void {
    // Slots are handed over directly, so inFlight counts a woken waiter before it runs.
    while (this.inFlight < this.capacity && this.waiters.length > 0) {
      const w = this.waiters.shift();
      if (!w) break;
      clearTimeout(w.timer);
      this.inFlight++;
      w.resolve();
    }
    if (this.inFlight === 0) for (const d of this.drainWaiters.splice(0)) d();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Pacer {
  private pauseUntil = 0;
  private nextSlot = 0;

  /** ratePerSecond 0 = unlimited. */
  constructor(private readonly ratePerSecond = 0) {}

  /** Everyone waits at least until now + ms (a later pause wins). */
  pause(ms: number): void {
    this.pauseUntil = Math.max(this.pauseUntil, Date.now() + ms);
  }

  async take(): Promise<void> {
    for (;;) {
      const now = Date.now();
      if (this.pauseUntil > now) {
        await sleep(this.pauseUntil - now);
        continue;
      }
      if (this.ratePerSecond <= 0) return;
      const slot = Math.max(now, this.nextSlot);
      this.nextSlot = slot + 1000 / this.ratePerSecond;
      if (slot > now) await sleep(slot - now);
      return;
    }
  }
}
