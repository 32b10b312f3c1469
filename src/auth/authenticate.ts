import { errors as joseErrors, jwtVerify } from "jose";
import { GatewayError } from "../core/errors.js";

export interface AuthUser {
  id: string;
  /** Project ids the user may join; undefined means any project. */
  projects: readonly string[] | undefined;
  /** When the token expires, in milliseconds since the epoch; undefined if it never does. */
  expiresAt: number | undefined;
}

export interface JwtOptions {
  /** Accept tokens without `exp` (they stay valid for as long as the secret does). */
  allowNoExp: boolean;
  /** Longer tokens are refused unread: this bounds `sub`, `projects` and the verifier's work. */
  maxTokenBytes: number;
}

const MAX_SUBJECT_LENGTH = 256;
/** The same shape handlers accept for project ids, so a claim can name nothing else. */
const PROJECT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Verifies HS256 JWTs; built once, with the secret already encoded. */
export class JwtAuthenticator {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly options: JwtOptions,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async verify(token: unknown): Promise<AuthUser> {
    if (typeof token !== "string" || token.length === 0) {
      throw new GatewayError(
        "unauthorized",
        "A JWT is required: pass it as auth.token in the handshake",
      );
    }
    if (token.length > this.options.maxTokenBytes) {
      throw new GatewayError(
        "unauthorized",
        `The token is longer than ${this.options.maxTokenBytes} bytes`,
      );
    }
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ["HS256"],
        ...(this.options.allowNoExp ? {} : { requiredClaims: ["exp"] }),
      });
      if (typeof payload.sub !== "string" || payload.sub.length === 0) {
        throw new GatewayError("unauthorized", "The token has no subject (sub)");
      }
      if (payload.sub.length > MAX_SUBJECT_LENGTH) {
        throw new GatewayError(
          "unauthorized",
          `The token's subject is longer than ${MAX_SUBJECT_LENGTH} characters`,
        );
      }
      const projects = payload["projects"];
      if (
        projects !== undefined &&
        !(
          Array.isArray(projects) &&
          projects.every((p) => typeof p === "string" && PROJECT_ID.test(p))
        )
      ) {
        throw new GatewayError(
          "unauthorized",
          "The token's projects claim must be a list of project ids (1-128 of A-Z a-z 0-9 _ . : -)",
        );
      }
      return {
        id: payload.sub,
        projects: projects as string[] | undefined,
        expiresAt: payload.exp === undefined ? undefined : payload.exp * 1000,
      };
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw new GatewayError("unauthorized", `Authentication failed: ${reason(error)}`);
    }
  }
}

function reason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "the token has expired";
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === "exp")
    return "the token has no expiry (exp)";
  return "the token is invalid";
}

export function canJoinProject(user: AuthUser | null, projectId: string): boolean {
  return user?.projects === undefined || user.projects.includes(projectId);
}
