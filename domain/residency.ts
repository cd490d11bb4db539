import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Country calling code → residency region. A message is only ever routed through its region's
 * endpoints; a code missing here is refused rather than sent abroad. Extend it with
 * SWITCHBOARD_REGIONS-style overrides passed to regionFor().
 */
export const DEFAULT_REGIONS: Record<string, string> = {
  '1': 'us',
  // EU/EEA and the UK.
  ...Object.fromEntries(
    [
      '30',
      '31',
      '32',
      '33',
      '34',
      '36',
      '39',
      '40',
      '41',
      '43',
      '44',
      '45',
      '46',
      '47',
      '48',
      '49',
      '351',
      '352',
      '353',
      '354',
      '356',
      '357',
      '358',
      '359',
      '370',
      '371',
      '372',
      '385',
      '386',
      '420',
      '421',
      '423',
    ].map((code) => [code, 'eu']),
  ),
};

export function callingCodeOf(e164: string): string | null {
  return parsePhoneNumberFromString(e164)?.countryCallingCode ?? null;
}

export function regionFor(e164: string, table: Record<string, string> = DEFAULT_REGIONS): string | null {
  const code = callingCodeOf(e164);
  return code ? (table[code] ?? null) : null;
}
