// Caps the API key checks that need the slow path (a PostgreSQL lookup and scrypt) in flight at
// once, overall and per client address: scrypt runs on the libuv pool (4 threads) and the lookup
// on the API's 5-connection PG pool, so a burst of unknown keys must not queue ahead of everyone.
// A check over either cap is refused at once (429, retry in a second), never queued.
import { clientKey } from '../channels/client-limiter';

/** Slow key checks in flight at once: the libuv pool's size. */
export const KEY_CHECKS_IN_FLIGHT = 4;
/** Slow key checks one client address may have in flight at once. */
export const KEY_CHECKS_IN_FLIGHT_PER_ADDRESS = 2;

export class KeyCheckGate {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly overall = KEY_CHECKS_IN_FLIGHT,
    private readonly perClient = KEY_CHECKS_IN_FLIGHT_PER_ADDRESS,
  ) {}

  /** A release function for a check this address may start now, or null when a cap is reached. */
  enter(ip: string): (() => void) | null {
    const key = clientKey(ip);
    const mine = this.perAddress.get(key) ?? 0;
    if (this.total >= this.overall || mine >= this.perClient) return null;
    this.total += 1;
    this.perAddress.set(key, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.perAddress.get(key) ?? 1) - 1;
      if (left > 0) this.perAddress.set(key, left);
      else this.perAddress.delete(key);
    };
  }
}
