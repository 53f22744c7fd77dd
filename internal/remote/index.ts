export { authRecord, checkAuthSetup, makeAuthSetup, readAuthRecord, writeAuthRecord, SrpProver, SrpVerifier, type AuthRecord, type AuthSetup } from './auth.ts';
export { RemoteSession } from './client.ts';
export { createRemote, describeServer, dial, login, openTransport, type DialOptions } from './dial.ts';
export { checkClientName, MAX_REMOTE_CHUNK, RepositoryHost, serveConnection, type HostLog, type HostOptions } from './host.ts';
export { REPLY_BUDGET, SESSION_REQUESTS, serveSession, sessionHandler, type Handler, type ServeOptions } from './serve.ts';
