import { upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';

/**
 * A workflow's search attribute changes, held until the workflow next waits (activity, timer,
 * child or condition) and then sent as one upsert with the latest value of each key: what the
 * Web UI can see between workflow tasks is the same, with fewer history events.
 */
export class SearchAttributePublisher {
  private readonly pending = new Map<string, SearchAttributeUpdatePair>();

  set(pair: SearchAttributeUpdatePair): void {
    // Re-inserted so that the upsert lists keys in the order they last changed.
    this.pending.delete(pair.key.name);
    this.pending.set(pair.key.name, pair);
  }

  publish(): void {
    if (this.pending.size === 0) return;
    upsertSearchAttributes([...this.pending.values()]);
    this.pending.clear();
  }
}
