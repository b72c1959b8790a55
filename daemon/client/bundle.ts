/**
 * Entry of `dist/client.js`, the client library for users' Node services and scripts: the client
 * plus the contract (request types such as `PublishEvent`, error codes), in one CommonJS file.
 */
export * from './index';
export * from '../protocol';
