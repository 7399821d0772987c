/** Errors: one base class with a stable code, and the few kinds the CLI maps to exit codes. */
export * from './toolkit-error.js';
export * from './error-codes.js';
export * from './abort.js';
export * from './warn.js';
