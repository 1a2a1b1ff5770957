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
}

/** Records one of PayBridge's own events (`connection.refresh_failed`, …). */
export async function emitGatewayEvent(rt: Runtime, appId: string, mode: string, type: string, data: Record<string, unknown>): Promise<void> {
  await rt.db.insert(gatewayEvents).values({ id: newGatewayId('pbevt'), appId, mode, type, data });
}
