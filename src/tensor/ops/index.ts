export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './linalg.js';
export * from './conv.js';
export * from './loss.js';
export { broadcastShapes } from './broadcast.js';
