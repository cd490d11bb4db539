// `switchboard webhook set|show`: a tenant's status callback settings (store/tenant-webhooks.ts).
import type { Command } from 'commander';
import type { TenantWebhooks } from '../store/tenant-webhooks';

export function registerWebhookCommands(
  program: Command,
  withWebhooks: (run: (webhooks: TenantWebhooks) => Promise<void>) => Promise<void>,
): void {
  const webhook = program
    .command('webhook')
    .description("a tenant's status callbacks: default URL and signing secret");
  webhook
    .command('set')
    .description('create the webhook or rotate its secret (shown once); --url sets the default URL')
    .requiredOption('--tenant <tenant>', 'whose webhook')
    .option('--url <url>', "default callback URL, for messages without a statusCallbackUrl ('' clears it)")
    .option('--json', 'one JSON object on stdout')
    .action(async (opts: { tenant: string; url?: string; json?: boolean }) => {
      await withWebhooks(async (webhooks) => {
        const url = opts.url === undefined ? undefined : opts.url === '' ? null : opts.url;
        const { webhook: set, secret } = await webhooks.set(opts.tenant, url);
        const text = [
          `webhook of tenant ${set.tenant}: default URL ${set.defaultUrl ?? '(none)'}`,
          `signing secret (shown only now; after a rotation the previous one also signs for CALLBACK_SECRET_GRACE_MS): ${secret}`,
        ].join('\n');
        process.stdout.write(opts.json ? `${JSON.stringify({ ...set, secret })}\n` : `${text}\n`);
      });
    });
  webhook
    .command('show')
    .description("a tenant's webhook, without its secret")
    .requiredOption('--tenant <tenant>', 'whose webhook')
    .option('--json', 'one JSON object on stdout')
    .action(async (opts: { tenant: string; json?: boolean }) => {
      await withWebhooks(async (webhooks) => {
        const shown = await webhooks.show(opts.tenant);
        if (!shown) {
          process.stderr.write(
            `switchboard: tenant ${opts.tenant} has no webhook (switchboard webhook set)\n`,
          );
          process.exitCode = 1;
          return;
        }
        const text = `webhook of tenant ${shown.tenant}: default URL ${shown.defaultUrl ?? '(none)'}, secret rotated ${shown.rotatedAt}`;
        process.stdout.write(opts.json ? `${JSON.stringify(shown)}\n` : `${text}\n`);
      });
    });
}
