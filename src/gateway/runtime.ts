/**
 * What every gateway module shares: configuration, the database, the
 * vault, the clients for Stripe's API and Connect hosts, request logs, and
 * PayBridge's own events. Built once by startGateway.
 */
import type { Db } from '../store/db.js';
import { gatewayEvents } from '../store/schema.js';
import type { GatewayConfig, Mode, PlatformCredentials } from './config.js';
import { newGatewayId } from './ids.js';
import type { RequestLog } from './logs.js';
import type { Tracer } from './tracing.js';
import type { Upstream } from './upstream.js';
import type { Vault } from './vault.js';

export interface Runtime {
  config: GatewayConfig;
  db: Db;
  vault: Vault;
  api: Upstream;
  connect: Upstream;
  logs: RequestLog;
  tracer: Tracer;
  /** Client id and secret key of the platform per mode (the embedded sandbox supplies its own). */
  platform: Record<Mode, PlatformCredentials>;
  /** Where Stripe sends people back after OAuth: this gateway's public URL. */
  publicUrl: string;
  /** Queues events for apps' webhook endpoints (set once the gateway is built). */
  appWebhooks?: { enqueue(event: { id: string; type: string; appId: string; mode: string; data: Record<string, unknown>; created: number }): Promise<void> };
}

/** Records one of PayBridge's own events (`connection.refresh_failed`, …). */
export async function emitGatewayEvent(rt: Runtime, appId: string, mode: string, type: string, data: Record<string, unknown>, id = newGatewayId('pbevt')): Promise<boolean> {
  // An event id is recorded once: Stripe's events arrive again on retries, and are queued for apps only the first time.
  const inserted = await rt.db.insert(gatewayEvents).values({ id, appId, mode, type, data }).onConflictDoNothing().returning();
  if (!inserted.length) return false;
  await rt.appWebhooks?.enqueue({ id, type, appId, mode, data, created: Math.floor(Date.now() / 1000) });
  return true;
}
