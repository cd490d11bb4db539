import { z } from 'zod';
import { PROBE_CAPABILITIES } from '../domain/probes';
import { regionFor } from '../domain/residency';

const recipientSchema = z.object({
  // A metric label: a short lowercase identifier (labelValue would turn anything else into "other").
  carrier: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'a lowercase identifier (letters, digits, _ and -)'),
  capability: z.enum(PROBE_CAPABILITIES),
  to: z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number'),
});

/**
 * PROBE_RECIPIENTS: JSON, region → synthetic recipients, one per carrier and capability. Each
 * number must belong to its region (residency: a probe never leaves it).
 */
export const probeRecipientsSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'JSON object {"region": [{"carrier", "capability", "to"}]}' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().regex(/^[a-z0-9-]+$/), z.array(recipientSchema).min(1)))
  .superRefine((plan, ctx) => {
    for (const [region, recipients] of Object.entries(plan)) {
      const seen = new Set<string>();
      recipients.forEach((r, i) => {
        // The path names the entry, never the number.
        if (regionFor(r.to) !== region)
          ctx.addIssue({ code: 'custom', path: [region, i, 'to'], message: `a number of region ${region}` });
        const key = `${r.carrier}/${r.capability}`;
        if (seen.has(key))
          ctx.addIssue({
            code: 'custom',
            path: [region, i],
            message: `one recipient per carrier and capability`,
          });
        seen.add(key);
      });
    }
  });
