// The E2EE library's public surface. Adapters only: nothing here knows Temporal.

export * from './mls';
export * from './key-directory';
export * from './key-directory-http';
export * from './sender-state-store';
export * from './sender';
export * from './escrow';
