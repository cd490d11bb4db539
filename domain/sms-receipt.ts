// What an SMS receipt's state means: a final state ends a part's wait (the workflow's, and the
// receipt matcher's: a part with its final receipt claims no other).
export const FINAL_SMS_STATES: ReadonlySet<string> = new Set([
  'DELIVRD',
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'REJECTD',
  'UNKNOWN',
]);

export const isFinalSmsState = (state: string): boolean => FINAL_SMS_STATES.has(state);
