/** The content-defined chunker (pure: bytes in, cut lengths out). */
export * from './chunker-params.js';
export * from './gear-table.js';
export * from './gear-chunker.js';
export * from './chunker.js';
