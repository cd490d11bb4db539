// The roles a Switchboard process can run (`node dist/workers/main.js --services …`). `npm start`
// runs all of them in one process; a deployment spreads them over processes and machines.

export const SERVICE_ROLES = {
  /** The delivery worker: deliverMessage on the delivery task queue, with the carriers' binds. */
  worker: 'delivery workflows and activities (scale out: run several)',
  /** The receipt router: the RBM webhook, the receipt dispatcher, key directory and media uploads. */
  receipts: 'receipt router, RBM webhook, key directory API and media uploads (RECEIPTS_PORT)',
  /** The lawful-access worker: the only process that holds ACCESS_REQUEST_KEK. */
  'lawful-access': 'lawful-access workflows and the request sweeper (holds ACCESS_REQUEST_KEK)',
  /** Rollout guards on their own task queue; this role also keeps the probes' Schedules current. */
  guards: "rollout guards, their task queue and their supervisor, the synthetic probes' schedules",
  /** The secure-link page (SHORTLINK_PORT). */
  shortlinks: 'the secure-link page (SHORTLINK_PORT)',
  /** The REST API (API_PORT): apps' front door, starting workflows with the codec keys. */
  api: 'the REST API (API_PORT)',
} as const;

export type ServiceRole = keyof typeof SERVICE_ROLES;

export const ALL_SERVICES: ReadonlySet<ServiceRole> = new Set(Object.keys(SERVICE_ROLES) as ServiceRole[]);

export class UnknownServiceError extends Error {
  override readonly name = 'UnknownServiceError';
}

/** `worker,receipts` → the set; an unknown or empty list is refused, naming what is expected. */
export function parseServices(list: string): ReadonlySet<ServiceRole> {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known = Object.keys(SERVICE_ROLES);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length || names.length === 0)
    throw new UnknownServiceError(
      `--services: ${unknown.length ? `unknown ${unknown.join(', ')}` : 'empty'}; expected a comma-separated list of ${known.join(', ')}`,
    );
  return new Set(names as ServiceRole[]);
}
