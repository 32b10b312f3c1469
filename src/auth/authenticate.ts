import { errors as joseErrors, jwtVerify } from "jose";
import { GatewayError } from "../core/errors.js";

export interface AuthUser {
  id: string;
  /** Project ids the user may join; undefined means any project. */
  projects: readonly string[] | undefined;
}

/** Verifies HS256 JWTs; built once, with the secret already encoded. */
export class JwtAuthenticator {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async verify(token: unknown): Promise<AuthUser> {
    if (typeof token !== "string" || token.length === 0) {
      throw new GatewayError(
        "unauthorized",
        "A JWT is required: pass it as auth.token in the handshake",
      );
    }
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ["HS256"] });
      if (typeof payload.sub !== "string" || payload.sub.length === 0) {
        throw new GatewayError("unauthorized", "The token has no subject (sub)");
      }
      const projects = payload["projects"];
      if (
        projects !== undefined &&
        !(Array.isArray(projects) && projects.every((p) => typeof p === "string"))
      ) {
        throw new GatewayError(
          "unauthorized",
          "The token's projects claim must be a list of strings",
        );
      }
      return { id: payload.sub, projects };
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      const reason =
        error instanceof joseErrors.JWTExpired ? "the token has expired" : "the token is invalid";
      throw new GatewayError("unauthorized", `Authentication failed: ${reason}`);
    }
  }
}

export function canJoinProject(user: AuthUser | null, projectId: string): boolean {
  return user?.projects === undefined || user.projects.includes(projectId);
}
