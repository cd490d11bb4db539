import type { Command } from 'commander';
import { parseScopes } from '../domain/api-key';
import type { ApiKeyInfo, ApiKeyStore } from '../store/api-keys';
import { ValidationError } from './validation';

type WithKeys = (run: (keys: ApiKeyStore) => Promise<void>) => Promise<void>;

const print = (json: boolean | undefined, value: unknown, text: string) =>
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);

function describe(k: ApiKeyInfo): string {
  return [
    k.keyId,
    k.tenant.padEnd(12),
    k.scopes.join(',').padEnd(9),
    k.createdAt,
    k.revokedAt ? `revoked ${k.revokedAt}` : 'live',
  ].join('  ');
}

function scopesOption(value: string): ReturnType<typeof parseScopes> {
  try {
    return parseScopes(value);
  } catch (err) {
    throw new ValidationError('--scope', (err as Error).message);
  }
}

/** `switchboard tenant …` and `switchboard apikey …`: who may call the REST API, as what. */
export function registerApiKeyCommands(program: Command, withKeys: WithKeys): void {
  program
    .command('tenant')
    .description('tenants of the REST API')
    .command('create')
    .argument('<name>', 'lowercase letters, digits and dashes')
    .option('--json', 'JSON output')
    .action(async (name: string, opts: { json?: boolean }) => {
      await withKeys(async (keys) => {
        const result = await keys.createTenant(name);
        print(opts.json, result, result.created ? `tenant ${name} created` : `tenant ${name} already exists`);
      });
    });

  const apikey = program.command('apikey').description('API keys of the REST API (a key is shown once)');
  apikey
    .command('create')
    .requiredOption('--tenant <tenant>', 'whose key: every request made with it is this tenant’s')
    .option('--scope <scopes>', 'comma-separated: send, read', 'send,read')
    .option('--json', 'JSON output')
    .action(async (opts: { tenant: string; scope: string; json?: boolean }) => {
      const scopes = scopesOption(opts.scope);
      await withKeys(async (keys) => {
        const created = await keys.create(opts.tenant, scopes);
        print(
          opts.json,
          created,
          `${created.apiKey}\n(key ${created.keyId} for tenant ${created.tenant}, scopes ${scopes.join(',')}; shown once: store it now)`,
        );
      });
    });
  apikey
    .command('list')
    .option('--tenant <tenant>', 'only this tenant’s keys')
    .option('--json', 'JSON output')
    .action(async (opts: { tenant?: string; json?: boolean }) => {
      await withKeys(async (keys) => {
        const list = await keys.list(opts.tenant);
        print(opts.json, list, list.length ? list.map(describe).join('\n') : 'no API keys');
      });
    });
  apikey
    .command('revoke')
    .argument('<keyId>', 'the key’s id (apikey list)')
    .option('--json', 'JSON output')
    .action(async (keyId: string, opts: { json?: boolean }) => {
      await withKeys(async (keys) => {
        const revoked = await keys.revoke(keyId);
        if (!revoked) throw new ValidationError('keyId', 'the id of a live key (apikey list)');
        print(opts.json, { keyId, revoked }, `key ${keyId} revoked`);
      });
    });
}
