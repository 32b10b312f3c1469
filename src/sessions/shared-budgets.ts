import { RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Principal } from "../auth/principal.js";
import type { Config } from "../core/config.js";
import { AddressShares, type RateScope } from "./flood-guard.js";

/** Builds a one-second limiter: in Redis when the node is clustered, so every node shares it. */
export type LimiterFactory = (name: string, points: number) => RateLimiterAbstract;

/**
 * Budgets that follow the person rather than the socket: without them 50
 * connections got 50 times the per-connection budget.
 */
export interface SharedBudgets {
  session: RateLimiterAbstract;
  /** Keyed by user for authenticated connections, by client IP for anonymous ones. */
  person: RateLimiterAbstract;
  /** Each anonymous connection's part of its address's budget; absent when not split. */
  addresses: AddressShares | undefined;
}

export function createSharedBudgets(config: Config, createLimiter: LimiterFactory): SharedBudgets {
  return {
    session: createLimiter("session", config.abuse.rateLimitPerSessionPerSec),
    person: createLimiter("person", config.abuse.rateLimitPerUserPerSec),
    addresses: config.abuse.rateLimitShareAddress
      ? new AddressShares(config.abuse.rateLimitPerUserPerSec)
      : undefined,
  };
}

export interface BudgetKeys {
  sessionId: string;
  person: Principal;
}

export interface SharedRefusal {
  scope: RateScope;
  retryAfterMs: number;
}

/** Takes a point from both budgets at once (one round trip); the session's refusal is named first. */
export async function consumeShared(
  budgets: SharedBudgets,
  keys: BudgetKeys,
): Promise<SharedRefusal | null> {
  const [session, person] = await Promise.allSettled([
    budgets.session.consume(keys.sessionId),
    budgets.person.consume(keys.person.key),
  ]);
  return refusalOf(session, "session") ?? refusalOf(person, keys.person.scope) ?? null;
}

function refusalOf(
  result: PromiseSettledResult<RateLimiterRes>,
  scope: RateScope,
): SharedRefusal | undefined {
  if (result.status === "fulfilled") return undefined;
  const reason: unknown = result.reason;
  // Anything but a refusal is the store failing, which the insurance limiter already absorbs.
  if (!(reason instanceof RateLimiterRes)) throw reason;
  return { scope, retryAfterMs: reason.msBeforeNext };
}
