import type { Env } from './schema';

/**
 * One task queue per concern, all named after TEMPORAL_TASK_QUEUE, so a deployment (or a test)
 * that picks its own queue keeps the three apart without naming each one:
 * - delivery: deliverMessage and its children, on as many workers as traffic needs;
 * - lawfulAccess: the lawful-access workflows, on the one worker that holds ACCESS_REQUEST_KEK;
 * - guards: the rollout guards, long-running and few. The synthetic probes' workflows drive real
 *   sends through the delivery workers' channels, so they run on the delivery queue.
 */
export interface TaskQueues {
  delivery: string;
  lawfulAccess: string;
  guards: string;
}

export function taskQueues(env: Pick<Env, 'TEMPORAL_TASK_QUEUE'>): TaskQueues {
  const base = env.TEMPORAL_TASK_QUEUE;
  return { delivery: base, lawfulAccess: `${base}-lawful-access`, guards: `${base}-guards` };
}
