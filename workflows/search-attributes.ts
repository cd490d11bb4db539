import { upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';

/**
 * A workflow's search attribute changes. Without coalescing each change is its own upsert
 * command (and history event, and visibility update on the server), as it always was. With
 * policy.coalesceSearchAttributes the changes wait here and go out as one upsert, holding the
 * latest value of each key, right before the workflow's next activity, timer, child or wait
 * (`publish()`): what the Web UI can see between workflow tasks is the same, with fewer events.
 */
export class SearchAttributes {
  private readonly pending = new Map<string, SearchAttributeUpdatePair>();

  constructor(private readonly coalesce: boolean) {}

  set(pair: SearchAttributeUpdatePair): void {
    if (!this.coalesce) {
      upsertSearchAttributes([pair]);
      return;
    }
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
