// The public surface of @samsa/controller.
export * from './metadata/index.js';
