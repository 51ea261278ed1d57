import { ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { Actor, ANONYMOUS, bearerToken, Role, roleAtLeast, TokenStore } from './token-store';

/** Authentication and authorization decisions, shared by the route guard and the Bull Board middleware. */
export class ApiAuth {
  private constructor(
    readonly disabled: boolean,
    private readonly tokens: TokenStore | undefined,
  ) {}

  static disabled(): ApiAuth {
    return new ApiAuth(true, undefined);
  }

  static withTokens(tokens: TokenStore): ApiAuth {
    return new ApiAuth(false, tokens);
  }

  /** The caller, from the Authorization header; 401 (UnauthorizedException) when absent or unknown. */
  authenticate(authorization: string | string[] | undefined): Actor {
    if (this.disabled) return ANONYMOUS;
    const token = bearerToken(authorization);
    if (!token) throw new UnauthorizedException({ error: 'unauthorized', message: 'a bearer token is required' });
    const actor = this.tokens?.authenticate(token);
    if (!actor) throw new UnauthorizedException({ error: 'unauthorized', message: 'the bearer token is not valid' });
    return actor;
  }

  /** 403 (ForbiddenException) when the actor's role is below `need`. */
  authorize(actor: Actor, need: Role, what = 'this request'): void {
    if (!roleAtLeast(actor.role, need)) {
      throw new ForbiddenException({
        error: 'forbidden',
        message: `${what} needs role ${need}; token ${actor.name} has role ${actor.role}`,
      });
    }
  }
}
