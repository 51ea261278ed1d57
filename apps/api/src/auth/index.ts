/** What other controllers (e.g. executions) use: `@RequireRole('operator')`, `@CurrentActor() actor: Actor`. */
export { ApiAuth } from './api-auth';
export { ApiAuthGuard, CurrentActor, Public, RequireRole } from './auth.guard';
export { ANONYMOUS, ROLES, roleAtLeast, sha256Hex, TokenFileError, TokenStore } from './token-store';
export type { Actor, Role } from './token-store';
