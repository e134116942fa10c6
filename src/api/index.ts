// Public surface of the HTTP API.
export { type ApiOptions, buildApp } from './app.js';
export { configLine, generateKey, KEY_PREFIX, newApiKey, sha256Hex } from './auth/keys.js';
export { type RunningApi, startApi } from './server.js';
